package config

// Dev returns the self-contained development configuration used when mizuchi
// starts without a configuration file: S3 on 127.0.0.1:8080, admin on
// 127.0.0.1:9090, one route named "uploads" at path prefix "/uploads" to the
// backend bucket "uploads" in us-east-1 at backendEndpoint (the embedded
// backend, storing under dataDir, see Config.DevDataDir) with the given keys,
// and no authentication. The upload id secret is kept beside dataDir (see
// devUploadIDSecret), so upload ids survive a restart. Every other setting
// has its default.
func Dev(dataDir, backendEndpoint, accessKey, secretKey string) *Config {
	c := newConfig()
	c.DevDataDir = dataDir
	c.Server.UploadIDSecret = devUploadIDSecret(dataDir)
	c.Server.Address = "127.0.0.1:8080"
	c.Server.AdminAddress = "127.0.0.1:9090"
	b := Bucket{Name: "uploads", PathPrefix: "/uploads"}
	b.setDefaults()
	b.S3 = S3{
		Bucket:      "uploads",
		Region:      "us-east-1",
		EndpointURL: backendEndpoint,
		AccessKey:   accessKey,
		SecretKey:   secretKey,
	}
	c.Buckets = []Bucket{b}
	c.finish()
	return c
}
