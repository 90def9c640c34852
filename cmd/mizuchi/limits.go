package main

import (
	"github.com/mizuchi-gw/mizuchi/config"
	"github.com/mizuchi-gw/mizuchi/engine"
)

// engineLimits maps server.limits to the engine's limits. They are set at
// start and swapped on every reload.
func engineLimits(l *config.Limits) engine.Limits {
	return engine.Limits{
		MaxConnsPerIP:                 l.MaxConnectionsPerIP,
		MinBodyRate:                   int64(l.MinBodyBytesPerSecond),
		MinBodyWindow:                 l.MinBodyRateWindow,
		MaxInflightUploads:            l.MaxInflightUploads,
		MaxInflightUploadsPerIdentity: l.MaxInflightUploadsPerIdentity,
		RequestsPerSecond:             l.RequestsPerSecondPerIdentity,
		Burst:                         float64(l.BurstPerIdentity),
	}
}
