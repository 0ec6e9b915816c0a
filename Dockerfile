# Sora Studio: one image for the web process and the queue workers.
FROM python:3.11-slim-bookworm

ENV DEBUG=false \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DATA_DIR=/data \
    STATIC_ROOT=/app/staticfiles

WORKDIR /app
# The simulator renders prompts in any script: Noto for Latin, Hebrew and Arabic, CJK and colour emoji.
# Not pinned: Debian replaces a point release's package (…+deb12u1 → …+deb12u2) and drops the old one, so a
# pin would break the build on the day of an update; fonts change nothing but the simulator's pictures.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends fonts-noto-core fonts-noto-cjk fonts-noto-color-emoji \
    && rm -rf /var/lib/apt/lists/*
RUN useradd --create-home --uid 10001 studio && mkdir -p /data && chown studio /data

COPY requirements.lock ./
RUN pip install -r requirements.lock

COPY . .
RUN pip install --no-deps . \
    && DEBUG=false SECRET_KEY=build-only python manage.py collectstatic --noinput -v 0

# By number, so the runtime can tell it is not root without reading the image's /etc/passwd.
USER 10001
VOLUME ["/data"]
EXPOSE 8000

# The web process answers /healthz (no login, no host check). A worker container runs the same image with
# another command: docker-compose.yml gives it a health check of its own.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, sys, urllib.request; url = 'http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '8000'); sys.exit(urllib.request.urlopen(url, timeout=4).status != 200)"]

# gunicorn reads gunicorn.conf.py (PORT, WEB_CONCURRENCY, GUNICORN_THREADS, GUNICORN_TIMEOUT).
# Workers run the same image with: python manage.py qcluster
CMD ["gunicorn", "sorastudio.wsgi"]
