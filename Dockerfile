# One image, two environments (arq needs redis-py < 6, Reflex >= 6.4): the backend in
# /app/.venv, the dashboard in /app/.venv-dashboard. docker-compose picks the command.
FROM python:3.11-slim
RUN apt-get update && apt-get install -y --no-install-recommends nodejs npm && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml README.md ./
COPY backend ./backend
COPY dashboard ./dashboard
COPY rxconfig.py ./
COPY reflex.lock ./reflex.lock
COPY mk ./mk
COPY Makefile ./
RUN python -m venv .venv && .venv/bin/pip install --no-cache-dir -e '.[backend]'
RUN make dashboard-deps DASHBOARD_VENV=.venv-dashboard
ENV PATH="/app/.venv/bin:${PATH}" PYTHONUNBUFFERED=1
EXPOSE 8000 3000
CMD ["switchboard", "api", "--host", "0.0.0.0", "--port", "8000"]
