"""Country rules (seed 002 ADMIN_COUNTRY_RULES): which countries the platform serves, their
payout currency, withdrawal fees and minimums, payout days and the US tax form they need."""
