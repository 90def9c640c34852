# Mizuchi container image: a static binary on an empty base, run as a
# non-root user. Build with `make image` (needs a container engine; CI
# machines without one do not build it).
#
#   docker build -t mizuchi .
#   docker run --rm -p 8080:8080 -v $PWD/mizuchi.yaml:/etc/mizuchi/mizuchi.yaml:ro \
#       mizuchi -config /etc/mizuchi/mizuchi.yaml -admin-listen 0.0.0.0:9090
#
# The admin listener binds to loopback unless told otherwise; inside a
# container, publish it deliberately (as above) for probes and metrics.

ARG GO_VERSION=1.26
FROM golang:${GO_VERSION} AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 GOFLAGS=-trimpath go build -ldflags "-s -w" -o /out/mizuchi ./cmd/mizuchi

FROM scratch
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build /out/mizuchi /mizuchi
# 65532: the conventional "nonroot" uid of distroless images.
USER 65532:65532
EXPOSE 8080 9090
ENTRYPOINT ["/mizuchi"]
