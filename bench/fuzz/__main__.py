"""`python -m bench.fuzz`: the campaign (bench/fuzz/campaign.py)."""
from bench.fuzz.campaign import main

main()
