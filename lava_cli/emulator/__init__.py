"""Local emulator of Lava's API (optional extra: starlette + uvicorn)."""
