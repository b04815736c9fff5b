"""Golden values for GymnasiumReferenceTests.cs.

Gymnasium's step() bodies (classic_control/pendulum.py, continuous_mountain_car.py) transcribed line for line and
run under NumPy 2 promotion (NEP 50). Runs on NumPy >= 2, or on NumPy 1.24-1.26 where
np._set_promotion_state("weak") emulates it. Prints float32 values as shortest round-trip literals for C#.
Usage: python3 gymnasium_reference.py
"""
import math

import numpy as np

if hasattr(np, "_set_promotion_state"):
    np._set_promotion_state("weak")


def angle_normalize(x):
    return ((x + np.pi) % (2 * np.pi)) - np.pi


def pendulum_step(state, u):
    th, thdot = state
    g, m, l, dt = 10.0, 1.0, 1.0, 0.05
    u = np.clip(u, -2.0, 2.0)[0]
    costs = angle_normalize(th) ** 2 + 0.1 * thdot**2 + 0.001 * (u**2)
    newthdot = thdot + (3 * g / (2 * l) * np.sin(th) + 3.0 / (m * l**2) * u) * dt
    newthdot = np.clip(newthdot, -8, 8)
    newth = th + newthdot * dt
    state = np.array([newth, newthdot])
    obs = np.array([np.cos(newth), np.sin(newth), newthdot], dtype=np.float32)
    return state, obs, -costs, False


def car_step(state, action):
    position, velocity = state[0], state[1]
    force = min(max(action[0], -1.0), 1.0)
    velocity += force * 0.0015 - 0.0025 * math.cos(3 * position)
    if velocity > 0.07:
        velocity = 0.07
    if velocity < -0.07:
        velocity = -0.07
    position += velocity
    if position > 0.6:
        position = 0.6
    if position < -1.2:
        position = -1.2
    if position == -1.2 and velocity < 0:
        velocity = 0
    terminated = bool(position >= 0.45 and velocity >= 0)
    reward = 100.0 if terminated else 0
    reward -= math.pow(action[0], 2) * 0.1
    state = np.array([position, velocity], dtype=np.float32)
    return state, state, reward, terminated


def lit(x):
    return repr(float(np.float32(x))) if np.isfinite(x) else str(x)


def rollout(name, step, state, actions):
    print(f"// {name}")
    for a in actions:
        state, obs, reward, terminated = step(state, np.array([a], dtype=np.float32))
        print("{" + ", ".join(f"{np.float32(o)!r}f" for o in obs) + f"}}, reward {np.float32(reward)!r}f, terminated {terminated}")


rollout("Pendulum from (1.0, -0.5)", pendulum_step, np.array([1.0, -0.5]), [0.3, 5.0, -1.7, 2.0, -2.0, 0.1])
rollout("Pendulum from (-3.5, 7.9)", pendulum_step, np.array([-3.5, 7.9]), [1.9, 2.0, 2.0])
# After reset Gymnasium holds the state as float64: np.array([uniform, 0]).
rollout("Car after reset at -0.5234", car_step, np.array([-0.5234, 0]), [1.0, 0.7, -1.0, 2.5, 0.3, -0.2])
# After a step it holds float32.
rollout("Car float32 state (0.44, 0.02)", car_step, np.array([0.44, 0.02], dtype=np.float32), [0.25, -1.0, 0.1])
