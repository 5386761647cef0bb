"""The fuzz campaign of `make fuzz` (issue 20): inputs of every kind Clause reads, mutated and generated.

Kinds (one module each): policy text (policy_kind), case YAML (case_kind), bulk CSV folders
(bulk_kind), HTTP requests to `clause serve` (http_kind), SSD and SSDA903 extracts and their profiles
(extract_kind). mutate.py holds the mutations they share;
worker.py runs a range of one kind's inputs in-process with a per-input alarm; campaign.py drives
workers in subprocesses with a watchdog, checks a sample through the real `clause` command, and
writes bench/robustness.md. Input i of a kind is made from `random.Random(f"{kind}:{seed}:{i}")`
alone, so any input can be made again from its kind, seed and index.
"""
