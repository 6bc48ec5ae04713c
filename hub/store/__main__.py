"""`python -m hub.store`: migrate HUB_DATABASE_URL's database now (README: Upgrades and backups)."""
from hub.store.migrate import main

main()
