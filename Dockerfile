# Build the release binary in one stage; run it as a non-root user in a slim one.
FROM rust:1-bookworm AS build
WORKDIR /src
# The whole context, less what .dockerignore leaves out: the manifest declares the
# benches and the binary compiles in demo/ and openapi/, so a list of folders
# would drift from what the build needs. `.ci/docker-context` builds from exactly
# these files.
COPY . .
RUN cargo build --release --locked && strip target/release/mwf

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /var/lib/mwf --create-home mwf
COPY --from=build /src/target/release/mwf /usr/local/bin/mwf
USER mwf
WORKDIR /var/lib/mwf
VOLUME ["/var/lib/mwf"]
ENV DATABASE_URL=/var/lib/mwf/mwf.db \
    MWF_BIND=0.0.0.0:8080 \
    MWF_ENV=production
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/mwf"]
CMD ["serve"]
