"""Gradient descent with momentum arriving at a saddle point (`003_3e2271feff96ec1f.txt`,
part 2, problems 2.3-2.5), with gradients from our engine.

The update is the one of the document: v_{t+1} = mu v_t - alpha grad L(w_t),
w_{t+1} = w_t + v_{t+1}, mu = 0.9 (full-batch: the "risk" is a known function of w).
Started at a saddle point w_t with velocity v_t = a:

* 2.3: the next step is exactly 0.9 a (the gradient vanishes there);
* 2.4: the following steps do not shrink like 0.9^tau a: once w has left the saddle the
  gradient is no longer zero; along a direction of negative curvature the steps grow,
  along a positive one the velocity oscillates and even reverses;
* 2.5: the iterates need not come back to the saddle: on a function with four minima
  they end in different minima depending on a, and return to the saddle only when a
  lies exactly on its stable direction.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

import autodiff as ad
from experiments.common import Report, new_figure, new_panel, progress, start

NAME = "momentum_saddle"
DESCRIPTION = (
    "Momentum 0.9 at a saddle point: the next step is exactly 0.9a, later steps do not "
    "decay like 0.9^t, trajectories on a saddle and on a four-minimum function"
)
SOURCE = "003_3e2271feff96ec1f.txt"
DATA = "none"

MU = 0.9


def saddle(w: Any) -> Any:
    """S(w) = (w1^2 - w2^2) / 2: a saddle at 0, curvature +1 along w1 and -1 along w2."""
    return (w[0] ** 2 - w[1] ** 2) / 2.0


def four_wells(w: Any) -> Any:
    """M(w) = (w1^2 - 1)^2 + (w2^2 - 1)^2: minima (+-1, +-1), saddles (0, +-1) and
    (+-1, 0) (curvature -4 and 8), maximum at 0."""
    return (w[0] ** 2 - 1.0) ** 2 + (w[1] ** 2 - 1.0) ** 2


MINIMA = np.array([[1.0, 1.0], [-1.0, 1.0], [-1.0, -1.0], [1.0, -1.0]])
SADDLE_M = np.array([0.0, 1.0])  # the saddle of M the trajectories start from


def momentum_run(
    f: Callable[[Any], Any], w0: np.ndarray, a: np.ndarray, alpha: float, steps: int, mu: float = MU
) -> tuple[np.ndarray, np.ndarray]:
    """Heavy-ball iterations from w_t = w0 with velocity v_t = a.

    Returns the iterates (steps + 1, 2), w0 first, and the velocities (steps + 1, 2),
    a first (row tau is v_{t+tau})."""
    grad = ad.grad(f)
    w, v = np.array(w0, dtype=float), np.array(a, dtype=float)
    ws, vs = [w], [v]
    for _ in range(steps):
        v = mu * v - alpha * grad(w)
        w = w + v
        ws.append(w)
        vs.append(v)
    return np.array(ws), np.array(vs)


# -------------------------------------------------------------------- 2.3: one step
def _first_step(report: Report, rng: np.random.Generator) -> None:
    rows, exact = [], True
    for name, f, w0 in (
        ("S, saddle at (0, 0)", saddle, np.zeros(2)),
        ("M, saddle at (0, 1)", four_wells, SADDLE_M),
    ):
        g0 = ad.grad(f)(w0)
        for _ in range(3):
            a = rng.normal(scale=0.1, size=2)
            _, vs = momentum_run(f, w0, a, alpha=0.05, steps=1)
            same = bool(np.array_equal(vs[1], MU * a))
            exact = exact and same and not np.any(g0)
            rows.append(
                [
                    name,
                    np.round(a, 6).tolist(),
                    np.round(vs[1], 6).tolist(),
                    np.round(MU * a, 6).tolist(),
                    "yes" if same else "NO",
                ]
            )
    report.table(
        "2.3: the step taken at the saddle",
        ["function", "a = v_t", "v_(t+1)", "0.9 a", "bitwise equal"],
        rows,
    )
    report.check(
        exact,
        "2.3: at a saddle point the next step is exactly 0.9 a",
        "grad L(w_t) computed by the engine is exactly 0, and v_(t+1) == 0.9 a bitwise "
        "for 3 random velocities on each function",
    )


# --------------------------------------------------------------- 2.4: the steps after
def _later_steps(report: Report, rng: np.random.Generator) -> dict[str, Any]:
    alpha, steps = 0.05, 60
    a_generic = rng.normal(scale=0.1, size=2)
    a_stable = np.array([abs(a_generic[0]) + 0.05, 0.0])  # along the positive-curvature axis
    runs = {
        "S, generic a": momentum_run(saddle, np.zeros(2), a_generic, alpha, steps),
        "S, a along w1 (curvature +1)": momentum_run(saddle, np.zeros(2), a_stable, alpha, steps),
        "M, generic a": momentum_run(four_wells, SADDLE_M, a_generic, alpha / 5, steps),
    }
    tau = np.arange(steps + 1)
    rows = []
    for t in (1, 5, 10, 20, 40, 60):
        rows.append(
            [t]
            + [float(MU**t * np.linalg.norm(vs[0])) for vs in (runs["S, generic a"][1],)]
            + [float(np.linalg.norm(vs[t])) for _, vs in runs.values()]
        )
    report.table(
        "2.4: speed ‖v_(t+tau)‖ after the saddle against the claimed 0.9^tau ‖a‖",
        ["tau", "0.9^tau ‖a‖ (S, generic a)"] + [f"‖v‖ {k}" for k in runs],
        rows,
        note=f"alpha = {alpha} on S, {alpha / 5} on M; mu = 0.9.",
    )
    _, vs = runs["S, generic a"]
    growth = np.linalg.norm(vs, axis=1) / (MU**tau * np.linalg.norm(vs[0]))
    report.check(
        growth.max() > 10.0,
        "2.4: the later steps do not decay like 0.9^tau a (negative curvature makes them grow)",
        f"on S, ‖v_(t+tau)‖ / (0.9^tau ‖a‖) reaches {growth.max():.3g} (> 10) within {steps} steps",
    )
    _, vs = runs["S, a along w1 (curvature +1)"]
    reversal = vs @ a_stable
    first_reversal = int(np.argmax(reversal < 0))
    report.check(
        reversal.min() < 0,
        "2.4: even along a direction of positive curvature the velocity is not 0.9^tau a: "
        "it oscillates and reverses",
        f"v_(t+tau) . a < 0 first at tau = {first_reversal} (0.9^tau a never points backwards)",
    )
    report.number("decay_ratio_max_on_saddle", float(growth.max()), headline=True)
    report.number("first_velocity_reversal_tau", first_reversal)
    return {"runs": runs, "tau": tau}


def _plot_later_steps(report: Report, later: dict[str, Any]) -> None:
    fig, axes = new_figure(ncols=2, size=(5.5, 4.3))
    ax = axes[0][0]
    grid = np.linspace(-1.5, 1.5, 201)
    g1, g2 = np.meshgrid(grid, grid)
    ax.contour(g1, g2, (g1**2 - g2**2) / 2, levels=15, cmap="coolwarm", linewidths=0.7)
    for label in ("S, generic a", "S, a along w1 (curvature +1)"):
        ws, _ = later["runs"][label]
        keep = np.all(np.abs(ws) <= 1.5, axis=1)
        ax.plot(ws[keep, 0], ws[keep, 1], ".-", ms=3, label=label)
    ax.plot(0, 0, "k*", ms=12, label="saddle w_t")
    ax.set_xlabel("w1")
    ax.set_ylabel("w2")
    ax.set_title("Momentum from the saddle of S = (w1^2 - w2^2)/2")
    ax.legend(fontsize=8, loc="lower right")
    ax = axes[0][1]
    tau = later["tau"]
    for label, (_, vs) in later["runs"].items():
        ax.semilogy(tau, np.linalg.norm(vs, axis=1), label=f"‖v‖, {label}")
    a = later["runs"]["S, generic a"][1][0]
    ax.semilogy(tau, MU**tau * np.linalg.norm(a), "k--", label="0.9^tau ‖a‖ (S, generic a)")
    ax.set_xlabel("steps tau after the saddle")
    ax.set_ylabel("step length ‖v_(t+tau)‖")
    ax.set_title("The steps do not decay like 0.9^tau")
    ax.legend(fontsize=7)
    report.figure(
        fig,
        "saddle_steps.png",
        "Momentum iterates leaving the saddle of S (left) and "
        "their step lengths against the geometric decay 0.9^tau (right)",
    )


# --------------------------------------------------------------- 2.5: where they end
def _where_they_end(report: Report, quick: bool) -> dict[str, Any]:
    alpha = 0.02
    steps = 400 if quick else 1000
    n_angles = 8 if quick else 16
    speeds = (0.05, 0.5)
    runs, rows = [], []
    for speed in speeds:
        for k in progress(range(n_angles), desc=f"speed {speed}"):
            angle = 2 * np.pi * (k + 0.5) / n_angles  # half-offset: no angle on the w2 axis
            a = speed * np.array([np.cos(angle), np.sin(angle)])
            ws, _ = momentum_run(four_wells, SADDLE_M, a, alpha, steps)
            dist = np.linalg.norm(MINIMA - ws[-1], axis=1)
            end = int(np.argmin(dist))
            runs.append({"a": a, "ws": ws, "minimum": end, "dist": float(dist[end])})
            rows.append(
                [
                    speed,
                    round(float(np.degrees(angle)), 1),
                    str(MINIMA[end].tolist()),
                    float(dist[end]),
                    float(np.linalg.norm(ws[-1] - SADDLE_M)),
                ]
            )
    on_axis = {}
    for sign in (1.0, -1.0):
        a = np.array([0.0, sign * speeds[0]])
        ws, _ = momentum_run(four_wells, SADDLE_M, a, alpha, steps)
        on_axis[sign] = ws
        rows.append(
            [
                speeds[0],
                90.0 if sign > 0 else 270.0,
                "(saddle)",
                float(np.linalg.norm(MINIMA - ws[-1], axis=1).min()),
                float(np.linalg.norm(ws[-1] - SADDLE_M)),
            ]
        )
    report.table(
        "2.5: where momentum ends, started at the saddle (0, 1) of M with velocity a",
        ["‖a‖", "angle of a (deg)", "nearest minimum", "distance to it", "distance to the saddle"],
        rows,
        note=f"alpha = {alpha}, mu = 0.9, {steps} steps. The last two rows start exactly "
        "on the saddle's stable direction (the w2 axis).",
    )
    converged = max(r["dist"] for r in runs)
    ends = sorted({r["minimum"] for r in runs})
    left = min(float(np.linalg.norm(r["ws"][-1] - SADDLE_M)) for r in runs)
    report.check(
        converged < 1e-6 and left > 0.9,
        "2.5: started off the stable direction, momentum never comes back to the saddle: "
        "every run ends in a minimum",
        f"{len(runs)} runs; max distance to a minimum at "
        f"the end {converged:.1e} (< 1e-6); distance to the saddle at least {left:.3f} "
        "(> 0.9; it is 1 or more at a minimum)",
    )
    report.check(
        len(ends) >= 3,
        "2.5: depending on a it ends in different minima, not only the nearest ones",
        f"minima reached: {[MINIMA[e].tolist() for e in ends]}",
    )
    back = max(float(np.linalg.norm(ws[-1] - SADDLE_M)) for ws in on_axis.values())
    report.check(
        back < 1e-6,
        "2.5: only a velocity exactly on the stable direction brings it back to the saddle",
        f"a = (0, +-{speeds[0]}): final distance to (0, 1) {back:.1e} (w1 stays exactly 0)",
    )
    report.number("minima_reached", [MINIMA[e].tolist() for e in ends], headline=True)
    report.number(
        "runs_per_minimum",
        {str(MINIMA[e].tolist()): sum(r["minimum"] == e for r in runs) for e in ends},
    )
    return {"runs": runs, "on_axis": on_axis}


def _plot_wells(report: Report, ends: dict[str, Any]) -> None:
    fig, ax = new_panel(size=(6.5, 6.0))
    grid = np.linspace(-1.7, 1.7, 241)
    g1, g2 = np.meshgrid(grid, grid)
    ax.contour(
        g1,
        g2,
        (g1**2 - 1) ** 2 + (g2**2 - 1) ** 2,
        levels=np.linspace(0, 3, 16),
        cmap="Greys",
        linewidths=0.6,
    )
    colours = ["tab:blue", "tab:orange", "tab:green", "tab:red"]
    seen = set()
    for r in ends["runs"]:
        label = None
        if r["minimum"] not in seen:
            seen.add(r["minimum"])
            label = f"ends at {MINIMA[r['minimum']].tolist()}"
        ax.plot(r["ws"][:, 0], r["ws"][:, 1], "-", lw=0.9, color=colours[r["minimum"]], label=label)
    ws = ends["on_axis"][1.0]
    ax.plot(ws[:, 0], ws[:, 1], "k-", lw=2, label="a on the stable direction: back to the saddle")
    ax.plot(*MINIMA.T, "k+", ms=12, mew=2, label="minima")
    ax.plot(*np.array([[0, 1], [0, -1], [1, 0], [-1, 0]]).T, "kx", ms=8, label="saddles")
    ax.plot(*SADDLE_M, "k*", ms=14, label="start w_t = (0, 1)")
    ax.set_xlabel("w1")
    ax.set_ylabel("w2")
    ax.set_title("Momentum from the saddle (0, 1) of (w1^2-1)^2 + (w2^2-1)^2")
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=2)
    ax.set_aspect("equal")
    report.figure(
        fig,
        "four_wells.png",
        "Heavy-ball trajectories started at a saddle with "
        "velocities in every direction, coloured by the minimum they end in",
    )


# ------------------------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> Report:
    args, report, rng = start(NAME, DESCRIPTION, SOURCE, argv)
    _first_step(report, rng)
    _plot_later_steps(report, _later_steps(report, rng))
    _plot_wells(report, _where_they_end(report, args.quick))
    report.write()
    return report


if __name__ == "__main__":
    main()
