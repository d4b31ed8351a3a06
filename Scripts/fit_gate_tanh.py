#!/usr/bin/env python3
"""Fit the rational tanh of CKernels/gate_math.h: tanh(x) ≈ x·P(x²)/Q(x²) on [0, 9.02].

P has degree 5 and Q degree 3 in x², P(0) = Q(0) = 1 (so tanh(x) = x exactly for tiny x), fitted for relative error by linearised
weighted least squares (Loeb's iteration: divide each row by the previous Q) with Lawson's
reweighting towards equal ripple. In double the fit's relative error is about 6e-8, one float
ulp; the float evaluation adds the rest (the bounds in gate_math.h are measured in float, by
Tests/CKernelsTests/RecurrentActivationTests.swift).

    python3 Scripts/fit_gate_tanh.py      # needs numpy; prints the float coefficients
"""
import numpy as np

LIMIT, P_DEGREE, Q_DEGREE = 9.02, 5, 3  # tanh(x) rounds to 1.0f from x ≈ 9.01

x = np.concatenate([np.linspace(1e-4, 1.0, 4000), np.linspace(1.0, LIMIT, 12000)])
t, s = np.tanh(x), x * x
weights, q_prev, best = np.ones_like(x), np.ones_like(x), None
for _ in range(200):
    # unknowns p1..pP, q1..qQ; residual x·P(s) − t·Q(s) relative to t·Q_prev(s), p0 = q0 = 1
    columns = [x * s**i for i in range(1, P_DEGREE + 1)] + [-t * s**j for j in range(1, Q_DEGREE + 1)]
    a = np.stack(columns, axis=1)
    row_scale = weights / (t * q_prev)
    a_scaled = a * row_scale[:, None]
    col_scale = np.max(np.abs(a_scaled), axis=0)  # conditioning: powers of s span 20 decades
    solution, *_ = np.linalg.lstsq(a_scaled / col_scale, (t - x) * row_scale, rcond=None)
    solution /= col_scale
    p = np.concatenate([[1.0], solution[:P_DEGREE]])
    q = np.concatenate([[1.0], solution[P_DEGREE:]])
    q_prev = sum(q[j] * s**j for j in range(Q_DEGREE + 1))
    err = (x * sum(p[i] * s**i for i in range(P_DEGREE + 1)) / q_prev - t) / t
    if best is None or np.max(np.abs(err)) < best[0]:
        best = (np.max(np.abs(err)), p, q)
    weights = weights * np.sqrt(np.abs(err)) + 1e-30
    weights /= weights.max()

print(f"max relative error in double: {best[0]:.3g}")
for name, coefficients in (("P", best[1]), ("Q", best[2])):
    for i, c in enumerate(coefficients):
        print(f"{name}{i} = {np.float32(c).item()!r}")
