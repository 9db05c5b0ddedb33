"""The only place httpx is imported: Lava API client and its types."""
