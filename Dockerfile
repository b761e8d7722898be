# One image for all four services and the seed Job:
#   python -m services <product-catalog|cart|checkout|load-generator>
#   python -m services seed --products N
# kind flow: docker build -t bfdemo-services:dev . && kind load docker-image bfdemo-services:dev --name bfdemo
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
WORKDIR /app
# Dependencies first, from pyproject.toml alone, so code edits reuse this layer.
COPY pyproject.toml README.md ./
RUN mkdir -p services scenarios && touch services/__init__.py scenarios/__init__.py \
    && /opt/venv/bin/pip install . && /opt/venv/bin/pip uninstall -y blackfriday-outage
# The code is copied, not installed: `python -m services` runs from /app, and both packages
# read their SQL through importlib.resources from where they stand.
COPY services services
COPY scenarios scenarios

FROM python:3.11-slim
ENV PATH=/opt/venv/bin:$PATH PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1
# The uid the Kubernetes specs run as (runAsUser 10001); no login shell, no home to write.
RUN groupadd --system --gid 10001 app && useradd --system --uid 10001 --gid app --no-create-home app
COPY --from=build /opt/venv /opt/venv
COPY --from=build /app /app
WORKDIR /app
USER 10001:10001
EXPOSE 8001 8002 8003 8010
CMD ["python", "-m", "services", "product-catalog"]
