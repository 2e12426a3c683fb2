# deskmail: multi-stage build. scripts/container-build.sh runs the same steps without a Docker
# engine (CI has none), so keep the two in step.

# --- build: the release binary -------------------------------------------------------------
FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src ./src
# Compiled into the binary: the web page, the shipped rules with the example messages they
# cite, and the reply and reminder templates (tests/defaults.rs checks this list).
COPY web ./web
COPY rules ./rules
COPY templates ./templates
COPY fixtures/mail ./fixtures/mail
COPY fixtures/einvoice/mail ./fixtures/einvoice/mail
RUN cargo build --release --locked

# --- runtime: slim Debian, non-root ---------------------------------------------------------
FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system deskmail \
 && useradd --system --gid deskmail --home-dir /var/lib/deskmail --shell /usr/sbin/nologin deskmail \
 && mkdir -p /var/lib/deskmail \
 && chown deskmail:deskmail /var/lib/deskmail
# Two executables, side by side: `deskmail` (searches) runs `deskmail-engine` for the rest.
COPY --from=build /src/target/release/deskmail /src/target/release/deskmail-engine /usr/local/bin/
# The binary carries its rules and templates. To use edited ones: `deskmail rules export DIR`,
# mount DIR and set DESKMAIL_RULES (and `[outbound] templates` in the config).
ENV DESKMAIL_DATA=/var/lib/deskmail
VOLUME ["/var/lib/deskmail"]
USER deskmail
WORKDIR /var/lib/deskmail
# Fail the build early if the built-in rules or their examples are broken.
RUN ["deskmail", "rules", "check"]
ENTRYPOINT ["deskmail"]
CMD ["run"]
