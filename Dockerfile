# The dialer daemon and admin. FreeSWITCH runs separately (see freeswitch_conf/README.md).
FROM python:3.11-slim-bookworm
RUN apt-get update \
 && apt-get install -y --no-install-recommends espeak-ng sox libsndfile1 \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /opt/dialer
COPY setup.cfg pyproject.toml README.md ./
COPY engine ./engine
COPY admin ./admin
COPY migrations ./migrations
COPY amd_models ./amd_models
RUN pip install --no-cache-dir -e .
ENV DIALER_DATA_DIR=/var/lib/dialer
VOLUME /var/lib/dialer
CMD ["sh", "-c", "dialer db upgrade && exec dialer run"]
