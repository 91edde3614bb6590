# Production image: `licenseflow api`, `worker` and `migrate`. Built with
# -tags nodev, so the embedded Temporal server (dev mode) is left out and the
# binary stays small.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -tags nodev -trimpath -ldflags "-s -w" -o /out/licenseflow ./cmd/licenseflow
# The release artifacts directory, owned by the non-root user (a volume
# mounted there starts with this ownership).
RUN mkdir -p /out/data/releases

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/licenseflow /usr/local/bin/licenseflow
COPY --from=build --chown=65532:65532 /out/data /data
ENV LICENSEFLOW_RELEASES_DIR=/data/releases
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/licenseflow"]
CMD ["api"]
