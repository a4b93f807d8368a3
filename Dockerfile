# tokenscope's image: a static (musl) binary with git and tar, for the lint component and for audits in CI.
#
#   docker build -t tokenscope .
#   docker run --rm -v "$PWD:/org:ro" tokenscope audit /org
#
# The binary is built with the `dist` profile (no line tables, stripped, thin LTO): about 13 MB.
FROM rust:1.95-alpine AS build
RUN apk add --no-cache musl-dev
WORKDIR /src
COPY . .
RUN cargo build --locked --profile dist --bin tokenscope \
 && cp target/dist/tokenscope /tokenscope

FROM alpine:3.22
# git and tar: `lint` reads the merge-request base with `git archive` and fetches it into a shallow clone.
RUN apk add --no-cache git tar ca-certificates \
 && git config --system --add safe.directory '*'
COPY --from=build /tokenscope /usr/local/bin/tokenscope
RUN tokenscope --version
ENTRYPOINT []
CMD ["tokenscope", "--help"]
