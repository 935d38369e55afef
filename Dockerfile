# The cutover image: `cutover relay` for a Deployment (deploy/relay.yaml),
# or any other command with a terminal (`docker run -it ... demo`).
#
#   docker build -t cutover .
#   docker run --rm cutover relay --help

# The Rust version is Cargo.toml's rust-version.
FROM rust:1.94.1-slim-trixie AS build
WORKDIR /src
COPY . .
# The registry and target directory are cached between builds (BuildKit).
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --bin cutover \
    && cp target/release/cutover /usr/local/bin/cutover

FROM debian:trixie-slim
# TLS to AWS, the API servers and a tls:// broker checks against the system roots.
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/*
# A numeric user, so `runAsNonRoot` can verify it without an /etc/passwd lookup.
RUN useradd --system --uid 10001 --user-group --no-create-home --shell /usr/sbin/nologin cutover
COPY --from=build /usr/local/bin/cutover /usr/local/bin/cutover
USER 10001:10001
ENTRYPOINT ["cutover"]
# `--share` alone takes $NATS_URL (and $NATS_CREDS, if set).
CMD ["relay", "--plan", "/etc/cutover/plan.toml", "--share"]
