# A minimal image of secretboot: a static binary on distroless (CA
# certificates for AWS's TLS endpoints, no shell, a non-root user). The
# build flags are .ci/release's, so the binary inside equals the release
# binary of the same commit for linux/<arch>.
#
#   docker build -t secretboot .
#   docker run --rm -e AWS_PROFILE -v ~/.aws:/home/nonroot/.aws:ro -v "$PWD:/work" -w /work secretboot plan --stage dev
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -buildid=" -o /out/secretboot ./cmd/secretboot

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/secretboot /usr/local/bin/secretboot
ENTRYPOINT ["/usr/local/bin/secretboot"]
