# One image for all four services and the seed Job:
#   python -m services <product-catalog|cart|checkout|load-generator>
#   python -m services seed --products N
# kind flow: docker build -t bfdemo-services:dev . && kind load docker-image bfdemo-services:dev --name bfdemo
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 UV_NO_CACHE=1
# uv, as `make` installs (same version): only in this stage, not in the image.
RUN python -m venv /opt/venv && pip install uv==0.13.8
WORKDIR /app
# Dependencies first, from the lock alone (exact versions, hashes checked), so code edits
# reuse this layer.
COPY requirements/image.txt requirements/image.txt
# Bytecode compiled here: the pods' root filesystem is read-only, and a service that compiles
# its imports at each start takes twice as long to answer (1 s against 2 s, measured).
RUN uv pip install --python /opt/venv/bin/python --no-deps --require-hashes --compile-bytecode \
    -r requirements/image.txt
# The code is copied, not installed: `python -m services` runs from /app, and both packages
# read their SQL through importlib.resources from where they stand.
COPY services services
COPY scenarios scenarios
RUN /opt/venv/bin/python -m compileall -q services scenarios

FROM python:3.11-slim
ENV PATH=/opt/venv/bin:$PATH PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1
# The uid the Kubernetes specs run as (runAsUser 10001); no login shell, no home to write.
RUN groupadd --system --gid 10001 app && useradd --system --uid 10001 --gid app --no-create-home app
COPY --from=build /opt/venv /opt/venv
COPY --from=build /app/services /app/services
COPY --from=build /app/scenarios /app/scenarios
WORKDIR /app
USER 10001:10001
EXPOSE 8001 8002 8003 8010
CMD ["python", "-m", "services", "product-catalog"]
