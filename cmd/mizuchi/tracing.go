package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"reflect"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/mizuchi-gw/mizuchi/config"
)

// startTracing sets up the OpenTelemetry SDK for the tracing section: an
// OTLP exporter (gRPC or HTTP/protobuf), a batch span processor (it exports
// from its own goroutine, never from an event loop) and the configured
// sampler. It returns the engine's Tracer and a shutdown that flushes
// what is queued; with tracing off, a nil Tracer and a no-op. Creating the
// exporter does not connect: a collector that is down costs dropped spans
// and a rate-limited warning, never a failed start.
func startTracing(ctx context.Context, log *slog.Logger, t *config.Tracing) (trace.Tracer, func(context.Context) error, error) {
	tracingStarted = *t
	if !t.Enabled {
		return nil, func(context.Context) error { return nil }, nil
	}
	exp, err := newExporter(ctx, &t.OTLP)
	if err != nil {
		return nil, nil, fmt.Errorf("tracing: cannot create the OTLP exporter: %w", err)
	}
	res, err := resource.Merge(resource.Default(), resource.NewSchemaless(attribute.String("service.name", t.ServiceName)))
	if err != nil {
		return nil, nil, fmt.Errorf("tracing: %w", err)
	}
	otel.SetErrorHandler(exportErrors{log: log})
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithResource(res),
		sdktrace.WithSampler(sampler(&t.Sampling)),
		sdktrace.WithBatcher(exp,
			sdktrace.WithMaxQueueSize(t.Batch.MaxQueueSize),
			sdktrace.WithMaxExportBatchSize(t.Batch.MaxExportBatchSize),
			sdktrace.WithBatchTimeout(t.Batch.ScheduledDelay),
			sdktrace.WithExportTimeout(t.OTLP.Timeout),
		),
	)
	log.Info("tracing on", "endpoint", redactURL(t.OTLP.Endpoint), "protocol", t.OTLP.Protocol,
		"sampling", t.Sampling.Strategy, "ratio", t.Sampling.Ratio, "service", t.ServiceName)
	return tp.Tracer("github.com/mizuchi-gw/mizuchi/engine"), tp.Shutdown, nil
}

// newExporter returns the OTLP span exporter of o. The endpoint's scheme
// decides plaintext (http) or TLS (https).
func newExporter(ctx context.Context, o *config.OTLP) (sdktrace.SpanExporter, error) {
	u, err := url.Parse(o.Endpoint)
	if err != nil {
		return nil, err
	}
	gzip := o.Compression == "gzip"
	if o.Protocol == "grpc" {
		opts := []otlptracegrpc.Option{otlptracegrpc.WithEndpoint(u.Host), otlptracegrpc.WithTimeout(o.Timeout)}
		if u.Scheme == "http" {
			opts = append(opts, otlptracegrpc.WithInsecure())
		}
		if gzip {
			opts = append(opts, otlptracegrpc.WithCompressor("gzip"))
		}
		if len(o.Headers) > 0 {
			opts = append(opts, otlptracegrpc.WithHeaders(o.Headers))
		}
		return otlptracegrpc.New(ctx, opts...)
	}
	path := u.Path
	if path == "" || path == "/" {
		path = "/v1/traces"
	}
	opts := []otlptracehttp.Option{otlptracehttp.WithEndpoint(u.Host), otlptracehttp.WithURLPath(path), otlptracehttp.WithTimeout(o.Timeout)}
	if u.Scheme == "http" {
		opts = append(opts, otlptracehttp.WithInsecure())
	}
	if gzip {
		opts = append(opts, otlptracehttp.WithCompression(otlptracehttp.GzipCompression))
	} else {
		opts = append(opts, otlptracehttp.WithCompression(otlptracehttp.NoCompression))
	}
	if len(o.Headers) > 0 {
		opts = append(opts, otlptracehttp.WithHeaders(o.Headers))
	}
	return otlptracehttp.New(ctx, opts...)
}

// sampler maps tracing.sampling to an SDK sampler.
func sampler(s *config.Sampling) sdktrace.Sampler {
	switch s.Strategy {
	case "never":
		return sdktrace.NeverSample()
	case "ratio":
		return sdktrace.TraceIDRatioBased(s.Ratio)
	case "parent_based":
		return sdktrace.ParentBased(sdktrace.TraceIDRatioBased(s.Ratio))
	}
	return sdktrace.AlwaysSample()
}

// redactURL drops the user info and query of a URL for the log.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unparsable)"
	}
	u.User, u.RawQuery = nil, ""
	return u.String()
}

// exportErrors logs the SDK's errors (failed exports, a full queue) at most
// once every 10 seconds.
type exportErrors struct{ log *slog.Logger }

var lastExportError atomic.Int64

func (e exportErrors) Handle(err error) {
	now := time.Now().UnixNano()
	last := lastExportError.Load()
	if now-last < int64(10*time.Second) || !lastExportError.CompareAndSwap(last, now) {
		return
	}
	e.log.Warn("tracing: export failed (further errors for 10s not logged)", "err", err)
}

// flushTracing exports the spans still queued, waiting at most 5 seconds.
func flushTracing(log *slog.Logger, stop func(context.Context) error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	t0 := time.Now()
	if err := stop(ctx); err != nil {
		log.Warn("tracing: flush on exit failed", "err", err)
		return
	}
	log.Debug("tracing flushed", "took", time.Since(t0).Round(time.Millisecond).String())
}

// tracingStarted is the tracing section the process started with.
var tracingStarted config.Tracing

// warnTracingChanged logs, on a reload, that a changed tracing section
// takes effect on a restart only.
func warnTracingChanged(log *slog.Logger, t *config.Tracing) {
	if !reflect.DeepEqual(*t, tracingStarted) {
		log.Warn("tracing was changed; it takes effect on a restart")
	}
}
