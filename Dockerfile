# deskmail: multi-stage build. scripts/container-build.sh runs the same steps without a Docker
# engine (CI has none), so keep the two in step.

# --- build: the release binary -------------------------------------------------------------
FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src ./src
RUN cargo build --release --locked

# --- runtime: slim Debian, non-root ---------------------------------------------------------
FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system deskmail \
 && useradd --system --gid deskmail --home-dir /var/lib/deskmail --shell /usr/sbin/nologin deskmail \
 && mkdir -p /var/lib/deskmail /srv/deskmail \
 && chown deskmail:deskmail /var/lib/deskmail
COPY --from=build /src/target/release/deskmail /usr/local/bin/deskmail
# Shipped rules and the fixtures their examples point at (rules/*.toml use ../fixtures/...).
COPY rules /srv/deskmail/rules
COPY templates /srv/deskmail/templates
COPY fixtures/mail /srv/deskmail/fixtures/mail
COPY fixtures/einvoice/mail /srv/deskmail/fixtures/einvoice/mail
WORKDIR /srv/deskmail
ENV DESKMAIL_DATA=/var/lib/deskmail \
    DESKMAIL_RULES=/srv/deskmail/rules
VOLUME ["/var/lib/deskmail", "/srv/deskmail/rules", "/srv/deskmail/templates"]
USER deskmail
# Fail the build early if the shipped rules or their examples are broken.
RUN ["deskmail", "rules", "check"]
ENTRYPOINT ["deskmail"]
CMD ["run"]
