"""Public pages that read several apps: home, the grid, the data-protection page."""
