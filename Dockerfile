# syntax=docker/dockerfile:1
# The lms-graphql image: the wheel is built in one stage and installed, with its dependencies,
# into a virtualenv of a slim runtime image that runs as an unprivileged user. The Alembic
# migrations travel inside the wheel, so `lms-graphql migrate` works from the image as is.
#
# The base image is pinned by its exact version tag and by digest (the multi-platform index of
# python:3.11.16-slim-trixie as docker-library/repo-info records it). To move to a newer one,
# change both.
ARG PYTHON_IMAGE=python:3.11.16-slim-trixie@sha256:be1575ed968de893bd54f4c56315ff7c4736ce522c1bca08fd521731aafc0d76

FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY lms_graphql ./lms_graphql
# The project's wheel and a wheel of every dependency, so the runtime stage installs offline.
RUN python -m pip wheel --wheel-dir /wheels .

FROM ${PYTHON_IMAGE} AS runtime
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/lms/bin:$PATH
# The wheels are mounted for this one step, not copied: they do not stay in the image.
RUN --mount=type=bind,from=build,source=/wheels,target=/wheels \
    python -m venv /opt/lms \
    && /opt/lms/bin/pip install --no-cache-dir --no-index --find-links /wheels lms-graphql \
    && groupadd --system --gid 10001 lms \
    && useradd --system --uid 10001 --gid lms --home-dir /nonexistent --no-create-home --shell /usr/sbin/nologin lms \
    && install -d -o 10001 -g 10001 -m 0750 /var/lib/lms
# FFmpeg for the video pipeline's worker: Debian's package, with the security updates each
# build gets (an exact version pin would break the build at Debian's next update).
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends ffmpeg \
    && rm -rf /var/lib/apt/lists/*
# Nothing in the image is writable by the app's user but /var/lib/lms, where compose mounts the
# content volume (uploaded files, when LMS_STORAGE_URL names no S3 store); the database, Redis
# and the secret files mounted under /run/secrets hold the rest.
WORKDIR /opt/lms
USER 10001:10001
EXPOSE 8000
ENTRYPOINT ["lms-graphql"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]
