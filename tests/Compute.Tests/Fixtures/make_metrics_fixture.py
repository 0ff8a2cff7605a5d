"""Writes metrics_fixture.json: scores/targets and the metrics the AST reference (utilities/stats.py,
traintest.py d_prime) computes for them with sklearn/scipy. Run with Debian's python: /usr/bin/python3 (python3-sklearn)."""
import json
import numpy as np
from scipy import stats
from sklearn import metrics


def ast_stats(output, target):
    # as AST utilities/stats.py calculate_stats, per class AP and AUC; accuracy on argmax
    acc = metrics.accuracy_score(np.argmax(target, 1), np.argmax(output, 1))
    ap = [metrics.average_precision_score(target[:, k], output[:, k], average=None) for k in range(target.shape[1])]
    auc = [metrics.roc_auc_score(target[:, k], output[:, k], average=None) for k in range(target.shape[1])]
    m_auc = float(np.mean(auc))
    d_prime = float(stats.norm().ppf(m_auc) * np.sqrt(2.0))
    return dict(ap=[float(x) for x in ap], auc=[float(x) for x in auc], mAP=float(np.mean(ap)), mAUC=m_auc, dprime=d_prime, accuracy=float(acc))


rng = np.random.default_rng(20261128)
cases = []
# multi-label, continuous scores correlated with targets
n, c = 40, 5
t = (rng.random((n, c)) < 0.3).astype(np.float32)
for k in range(c):
    t[k, k] = 1; t[n - 1 - k, k] = 0   # every class has positives and negatives
s = (0.6 * t + rng.random((n, c))).astype(np.float32)
cases.append(("multilabel", s, t))
# single-label one-hot, scores quantised to create many ties
n, c = 30, 4
labels = np.arange(n) % c
t = np.eye(c, dtype=np.float32)[labels]
s = np.round(0.5 * t + rng.random((n, c)), 1).astype(np.float32)
cases.append(("singlelabel_ties", s, t))
# small hand-checkable case
t = np.array([[1, 0], [0, 1], [1, 0], [0, 1], [1, 0]], dtype=np.float32)
s = np.array([[0.9, 0.2], [0.4, 0.3], [0.35, 0.8], [0.8, 0.1], [0.1, 0.7]], dtype=np.float32)
cases.append(("small", s, t))

out = [dict(name=name, scores=s.tolist(), targets=t.tolist(), expected=ast_stats(s.astype(np.float64), t)) for name, s, t in cases]
with open("metrics_fixture.json", "w") as f:
    json.dump(out, f, indent=1)
print("wrote", len(out), "cases")
