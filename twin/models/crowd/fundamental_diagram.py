"""The Weidmann (1993) fundamental diagram of pedestrian traffic.

v(ρ) = v0 · (1 − exp(−γ · (1/ρ − 1/ρ_max)))   for 0 < ρ < ρ_max, 0 at ρ_max,
with free speed v0 = 1.34 m/s, jam density ρ_max = 5.4 P/m² and γ = 1.913 P/m²
(Weidmann, U. 1993, Transporttechnik der Fussgänger, ETH Zürich, Schriftenreihe IVT 90).
Specific flow J_s(ρ) = ρ · v(ρ) in P/(m·s); its maximum, about 1.22 P/(m·s) near ρ = 1.75 P/m²,
times the clear width of a link is that link's capacity in P/s.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy.optimize import minimize_scalar


@dataclass(frozen=True)
class Weidmann:
    """Parameters of the diagram (SI units)."""

    free_speed_m_s: float = 1.34
    jam_density_p_m2: float = 5.4
    gamma_p_m2: float = 1.913

    def speed_factor(self, density_p_m2: float) -> float:
        """v(ρ)/v0 in [0, 1]: the share of its free speed a pedestrian keeps at density ρ."""
        if density_p_m2 <= 0:
            return 1.0
        if density_p_m2 >= self.jam_density_p_m2:
            return 0.0
        return 1.0 - math.exp(-self.gamma_p_m2 * (1.0 / density_p_m2 - 1.0 / self.jam_density_p_m2))

    def speed_m_s(self, density_p_m2: float, free_speed_m_s: float | None = None) -> float:
        """Walking speed (m/s) at density ρ for a pedestrian of free speed ``free_speed_m_s``."""
        v0 = self.free_speed_m_s if free_speed_m_s is None else free_speed_m_s
        return v0 * self.speed_factor(density_p_m2)

    def specific_flow(self, density_p_m2: float) -> float:
        """J_s = ρ · v(ρ), P/(m·s)."""
        return density_p_m2 * self.speed_m_s(density_p_m2)

    def capacity_density(self) -> float:
        """The density (P/m²) at which the specific flow is highest."""
        res = minimize_scalar(
            lambda r: -self.specific_flow(r),
            bounds=(0.1, self.jam_density_p_m2 - 1e-6),
            method="bounded",
            options={"xatol": 1e-9},
        )
        return float(res.x)

    def max_specific_flow(self) -> float:
        """Highest specific flow, P/(m·s) (about 1.22 for the default parameters)."""
        return self.specific_flow(self.capacity_density())


WEIDMANN = Weidmann()
"""The default parameters (frozen; pass another Weidmann to change them)."""
