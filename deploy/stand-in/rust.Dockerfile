# A stand-in for docker.io/library/rust:1.95.0-slim-bookworm, for hosts that reach no image
# registry (the project's own machines): the official image's recipe (docker-library/rust,
# 1.95.0/bookworm/slim) on the debian:bookworm-slim stand-in, with rustup from
# static.rust-lang.org. scripts/build-container builds it only when the pull fails; where the
# registry answers, deploy/Dockerfile builds on the real image.
FROM docker.io/library/debian:bookworm-slim
ENV RUSTUP_HOME=/usr/local/rustup \
    CARGO_HOME=/usr/local/cargo \
    PATH=/usr/local/cargo/bin:$PATH \
    RUST_VERSION=1.95.0
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates gcc libc6-dev wget \
    && wget -q https://static.rust-lang.org/rustup/dist/x86_64-unknown-linux-gnu/rustup-init \
    && chmod +x rustup-init \
    && ./rustup-init -y --no-modify-path --profile minimal --default-toolchain "$RUST_VERSION" --default-host x86_64-unknown-linux-gnu \
    && rm rustup-init \
    && chmod -R a+w "$RUSTUP_HOME" "$CARGO_HOME" \
    && apt-get remove -y --auto-remove wget \
    && rm -rf /var/lib/apt/lists/*
