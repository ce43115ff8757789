# 企业诉求直通车 — one image for web (gunicorn), worker and beat (Celery), and migrations.
# Build: docker build -t weihai-direct-line .   Run the stack: see compose.yaml and README.md.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

RUN useradd --system --create-home --home-dir /home/weihai --uid 10001 --user-group weihai

# Dependencies first, in their own layer: a code change does not reinstall them.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

# Editable install: the code stays in /app, where BASE_DIR (templates, fixtures, locale) is.
COPY . .
RUN pip install --no-deps -e .

# Static files at build time; the key is a throwaway that only this step sees.
RUN DEBUG=0 DOTENV_FILE= SECRET_KEY=collectstatic-build-only-dummy-key \
        python manage.py collectstatic --noinput \
    && chown -R weihai:weihai /app/var

# The code is root-owned and read-only for the app; only var/ (uploads) is writable.
USER weihai

EXPOSE 8000

CMD ["gunicorn", "weihai.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "2"]
