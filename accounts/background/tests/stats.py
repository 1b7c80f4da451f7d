"""Comparing two samples of timings without a timed assert."""


def auc(first, second):
    """P(a value of `first` exceeds one of `second`), ties counting half: the Mann-Whitney U
    statistic over n1*n2. 0.5 when neither sample tends to be larger; 0 or 1 when they separate."""
    wins = sum((a > b) + 0.5 * (a == b) for a in first for b in second)
    return wins / (len(first) * len(second))


def overlap(first, second):
    """Whether the two samples' ranges overlap."""
    return min(first) <= max(second) and min(second) <= max(first)
