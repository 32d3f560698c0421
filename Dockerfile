# auditbot: the bot endpoint (POST /api/messages) and its outbox runner, on port 3978.
#   docker build -t auditbot .
#   docker run --env-file auditbot.env -p 3978:3978 -v auditbot-var:/app/var auditbot
# Settings come from the environment only (see docs/deploy.md); nothing secret is baked in.
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY auditbot auditbot
COPY application application
COPY audits audits
COPY store store
COPY cards cards
COPY bot bot
COPY graph graph
COPY scheduling scheduling
COPY reports reports
COPY sandbox sandbox
COPY manifest manifest
RUN python -m venv /venv && /venv/bin/pip install .

FROM python:3.11-slim
ENV PATH=/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    AUDITBOT_LOG_FORMAT=json \
    AUDITBOT_LOG_LEVEL=INFO
COPY --from=build /venv /venv
RUN useradd --create-home --uid 10001 auditbot && mkdir -p /app/var && chown auditbot /app/var
WORKDIR /app
USER auditbot
# var/ holds the SQLite database when AUDITBOT_DATABASE_URL is not set: mount a volume there.
VOLUME ["/app/var"]
EXPOSE 3978
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s \
    CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:3978/healthz', timeout=4).status == 200 else 1)"
CMD ["auditbot", "serve", "--host", "0.0.0.0", "--port", "3978"]
