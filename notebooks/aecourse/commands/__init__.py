"""The maintainers' and instructors' commands behind `python -m aecourse`; the notebooks never import these.

cli: the command line · runner: headless notebook runs (retrain, execute) · report: RESULTS.md ·
classroom: student copies · colab: Colab badges · slides: reveal.js decks.
"""
