package config

// Memory bounds the request body bytes the gateway holds in user space
// (server.memory). Spliced bodies never enter user space; in-loop small
// bodies are bounded by splice_threshold x connections and are not counted.
type Memory struct {
	// BufferBudget is the most body bytes buffered at once: the part
	// buffers of auto-multipart uploads (PartSize x (ConcurrentParts + 1)
	// each, reserved when the upload starts) and the 256KiB copy buffers of
	// bodies not spliced (TLS, zero copy off, aws-chunked, or the pipe pool
	// exhausted). A request that does not fit gets 503 SlowDown with
	// Retry-After before its body is read; an auto-multipart upload whose
	// parts would be larger than the whole budget gets 400 EntityTooLarge.
	// At least 1MiB and at least every route's upload.part_size plus
	// 512KiB. Default 256MiB. Flag -buffer-budget.
	BufferBudget Size `yaml:"buffer_budget"`
}

// minBufferBudget is the smallest budget accepted: four copy buffers.
const minBufferBudget = 1 << 20

// chunkedReadBufs are the read buffers an auto-multipart upload of unknown
// length holds beside its parts (engine.reserveParts).
const chunkedReadBufs = 512 << 10

func (c *Config) validateMemory(v *validator) {
	m := &c.Server.Memory
	if m.BufferBudget < minBufferBudget {
		v.errorf("server.memory.buffer_budget", "must be at least 1MiB, got %d", int64(m.BufferBudget))
		return
	}
	for i := range c.Buckets {
		if ps := c.Buckets[i].Upload.PartSize; ps+chunkedReadBufs > m.BufferBudget {
			v.errorf("server.memory.buffer_budget", "%d is too small for buckets[%d].upload.part_size %d: "+
				"an auto-multipart upload needs at least one part buffer plus 512KiB", int64(m.BufferBudget), i, int64(ps))
		}
	}
}
