# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
Joystick to end-effector deltas with a deadman (docs/method.md#interventions), ROS-free.

A ``JoyMapping`` names which axes drive x, y, z (with signs and scales), which buttons open and
close the gripper, and which button is the deadman. ``Teleop.update(axes, buttons, now)`` turns
one Joy message into an action and tells whether an intervention starts or ends: pressing the
deadman starts one, releasing it ends it, and silence past ``timeout_s`` ends it too
(``Teleop.check(now)``), on a monotonic clock. While the deadman is held the action is the
human's; the gripper keeps its last commanded state until a gripper button is pressed (rising
edge). A Joy message too short for the mapping is refused with the counts and indices.

Outcome labels: the ``success_button`` and ``failure_button`` mark the episode's end (the
operator's label, rl.outcomes.OutcomeLabels) on their rising edge, once per press however long
it is held, without the deadman (the person judges, not drives); both pressed in one message
is no label. A label button the device lacks never fires (it does not block a takeover).

Frozen input counts as silence. joy_node repeats its last message (``autorepeat_rate``) while
nothing changes, and goes on repeating it when a wireless pad goes out of range: a deflection
frozen bit for bit would drive the arm for ever. A human thumb never holds a deflection bit for
bit, so only a *live* message refreshes the takeover: one whose axes or buttons differ from the
message before it, or one that commands no motion (every mapped axis inside the deadzone: a
still stick with the deadman held is a human pausing, and the repeats keep the takeover alive).
A message repeating a deflection more than ``timeout_s`` after the last live one is refused
(``update`` returns None, counted in ``frozen_messages``) and ``check`` ends the takeover, as
it does for silence. Holding a stick pinned at its stop (which reads the same value every time)
for longer than ``timeout_s`` reads as frozen too: the takeover ends and the next change of the
input starts it again.
"""

from dataclasses import dataclass, field
import time

import numpy as np
from robodopamine_ros.data.stamps import (FUTURE_TOLERANCE_S, JUMP_THRESHOLD_S, StampOrder,
                                          StampVerdict)


@dataclass(frozen=True)
class JoyMapping:
    axes: tuple = (1, 0, 4)            # Joy axes driving x, y, z
    signs: tuple = (1.0, 1.0, 1.0)
    scale: float = 1.0                 # action units per full deflection
    deadzone: float = 0.05
    deadman_button: int = 4            # held to take over
    close_button: int = 0
    open_button: int = 1
    timeout_s: float = 0.5             # silence on /joy past this ends a takeover
    clear_estop_button: int = 7        # pressed with the deadman held: clear the e-stop (-1: none)
    success_button: int = 3            # outcome label: a success (-1: none)
    failure_button: int = 2            # outcome label: a failure (-1: none)
    extra: dict = field(default_factory=dict)

    def __post_init__(self):
        if len(self.axes) != 3 or len(self.signs) != 3:
            raise ValueError(f'teleop axes and signs must name 3 entries (x, y, z), got '
                             f'{self.axes} and {self.signs}')
        if not (self.scale > 0 and self.timeout_s > 0 and 0 <= self.deadzone < 1):
            raise ValueError('teleop scale and timeout_s must be > 0 and deadzone in [0, 1)')
        labels = {'success_button': self.success_button, 'failure_button': self.failure_button}
        others = {'deadman_button': self.deadman_button, 'close_button': self.close_button,
                  'open_button': self.open_button, 'clear_estop_button': self.clear_estop_button}
        for name, index in labels.items():
            taken = [k for k, v in dict(others, **labels).items() if k != name and v == index]
            if index < -1 or (index >= 0 and taken):
                raise ValueError(f'teleop {name} must be -1 (none) or a button of its own, got '
                                 f'{index}' + (f' (also {taken[0]})' if taken else ''))


# defaults for a common gamepad (Xbox layout under the joy driver: LB is the deadman, A / B the
# gripper, Y / X the outcome labels success / failure, START clears the e-stop) and for a
# 3Dconnexion SpaceMouse publishing Joy (spacenav_node: axes 0-2 translation, button 0/1)
PRESETS = {
    'gamepad': JoyMapping(),
    'spacemouse': JoyMapping(axes=(0, 1, 2), signs=(1.0, 1.0, 1.0), scale=1.0, deadzone=0.1,
                             deadman_button=0, close_button=1, open_button=1,
                             clear_estop_button=-1,  # two buttons: no combination left ...
                             success_button=-1, failure_button=-1),   # ... and no label
}
# a label button parameter left at this keeps the preset's (-1 is 'none')
PRESET_BUTTON = -2


def mapping_from_settings(preset, axes=(-1,), scale=0.0, deadman_button=-1, timeout_s=0.0,
                          success_button=PRESET_BUTTON, failure_button=PRESET_BUTTON):
    """
    Build a JoyMapping from a preset and overrides, as teleop_node's parameters give them.

    An override left at its 'unset' value (axes (-1,), scale 0, deadman -1, timeout 0, label
    buttons PRESET_BUTTON = -2) keeps the preset's; a label button -1 is none.
    """
    if preset not in PRESETS:
        raise ValueError(f'preset must be one of {sorted(PRESETS)}, got {preset!r}')
    base = PRESETS[preset]
    axes = tuple(axes)
    return JoyMapping(
        axes=base.axes if axes == (-1,) else axes, signs=base.signs,
        scale=scale or base.scale, deadzone=base.deadzone,
        deadman_button=base.deadman_button if deadman_button < 0 else deadman_button,
        close_button=base.close_button, open_button=base.open_button,
        timeout_s=timeout_s or base.timeout_s, clear_estop_button=base.clear_estop_button,
        success_button=base.success_button if success_button == PRESET_BUTTON
        else success_button,
        failure_button=base.failure_button if failure_button == PRESET_BUTTON
        else failure_button)


@dataclass
class TeleopEvent:
    action: np.ndarray        # dx, dy, dz, gripper in [-1, 1]
    active: bool              # the deadman is held: the human is in control
    started: bool             # an intervention starts with this message
    ended: bool               # an intervention ends with this message
    clear_estop: bool = False  # the clear button pressed (rising edge) with the deadman held
    label: bool = None        # an outcome label pressed (rising edge): True success, False failure


def check_joy(mapping, axes_count, buttons_count):
    """
    Raise ValueError when a Joy message is too short for the mapping, naming counts and indices.

    A mapping that reads a button or axis the device does not have would make a takeover
    silently impossible (the deadman never reads as pressed); it is refused instead.
    """
    problems = []
    if axes_count < max(mapping.axes) + 1:
        problems.append(f'{axes_count} axes, the mapping reads axes {list(mapping.axes)} '
                        f'(x, y, z; set the teleop axes parameter)')
    buttons = {'deadman': mapping.deadman_button, 'close': mapping.close_button,
               'open': mapping.open_button}
    if buttons_count < max(buttons.values()) + 1:
        named = ', '.join(f'{k} {v}' for k, v in buttons.items())
        problems.append(f'{buttons_count} buttons, the mapping reads buttons {named} '
                        '(set deadman_button or the preset)')
    if problems:
        raise ValueError('Joy message has ' + '; '.join(problems) + ': takeover refused')


class Teleop:
    """
    Turn Joy messages into actions and intervention start/end events.

    Time: ``now`` is a monotonic receive time (default ``clock()``, time.monotonic); silence
    past ``timeout_s`` on that clock ends a takeover whatever the wall clock does. Header
    stamps follow the stamp rule of every live stream (data/stamps.py, ``stamps``): a message
    reordered by at most ``jump_threshold`` or stamped more than ``future_tolerance`` ahead of
    the receiver's clock is not fresh: ``update`` returns None for it and it neither moves the
    arm nor refreshes the deadman; a jump beyond ``jump_threshold`` (either way) re-bases the
    stream at once, so the deadman takes effect with the first message after a clock step
    (``stamp_verdict.note`` says so, once). Gripper buttons act on
    the rising edge (press), so a press that spans many Joy messages (SpaceMouse drivers
    publish at 60 Hz) changes the gripper once.
    """

    def __init__(self, mapping=JoyMapping(), gripper=-1.0, clock=time.monotonic,
                 jump_threshold=JUMP_THRESHOLD_S, future_tolerance=FUTURE_TOLERANCE_S):
        self.mapping = mapping
        self.stamps = StampOrder('joy', jump_threshold, future=future_tolerance)
        self.stamp_verdict = StampVerdict(True)   # of the newest stamped message
        self.gripper = float(gripper)
        self.clock = clock
        self.active = False
        self.last_message = None    # monotonic arrival of the newest fresh message
        self.last_live = None       # ... of the newest live one (changed, or no motion)
        self.last_input = None      # (axes, buttons) of the newest fresh message
        self.previous_buttons = ()
        self.stale_messages = 0
        self.frozen_messages = 0

    @staticmethod
    def _button(buttons, index):
        return 0 <= index < len(buttons) and bool(buttons[index])

    def _pressed_now(self, buttons, index):
        """Rising edge: pressed in this message, not in the previous one."""
        return self._button(buttons, index) and not self._button(self.previous_buttons, index)

    def update(self, axes, buttons, now=None, stamp=None, clock_stamp=None):
        """
        Fold one Joy message into an event; None when the message is not fresh.

        axes, buttons: the Joy arrays; now: receive time, monotonic s (default: the clock);
        stamp: the message's header stamp in s, or None; clock_stamp: the receiver's clock in
        the stamps' time base (ROS time, s), or None. Raises ValueError (naming counts and
        indices) when the message is too short for the mapping; an active takeover ends then.
        """
        now = self.clock() if now is None else now
        if stamp is not None:
            self.stamp_verdict = self.stamps.check(stamp, clock_stamp)
            if not self.stamp_verdict:
                self.stale_messages += 1
                return None
        m = self.mapping
        try:
            check_joy(m, len(axes), len(buttons))
        except ValueError:
            self.active = False
            raise
        values = np.array([axes[i] for i in m.axes], dtype=float) * np.array(m.signs)
        values = np.where(np.abs(values) < m.deadzone, 0.0, values)
        delta = np.clip(values * m.scale, -1.0, 1.0)
        received = (tuple(axes), tuple(buttons))
        self.last_message = now
        if received != self.last_input or not np.any(delta):  # live: see the module docstring
            self.last_live, self.last_input = now, received
        elif now - self.last_live > m.timeout_s or now < self.last_live:
            self.frozen_messages += 1
            return None  # a deflection repeated bit for bit: a lost pad, not a thumb
        if m.close_button == m.open_button:  # one button toggles, on its rising edge
            if self._pressed_now(buttons, m.close_button):
                self.gripper = -self.gripper
        elif self._pressed_now(buttons, m.close_button):
            self.gripper = 1.0
        elif self._pressed_now(buttons, m.open_button):
            self.gripper = -1.0
        pressed = self._button(buttons, m.deadman_button)
        started, ended = pressed and not self.active, self.active and not pressed
        clear = pressed and self._pressed_now(buttons, m.clear_estop_button)
        success = self._pressed_now(buttons, m.success_button)   # no deadman needed
        label = None if success == self._pressed_now(buttons, m.failure_button) else success
        self.active = pressed
        self.previous_buttons = tuple(buttons)
        action = np.concatenate([delta if pressed else np.zeros(3), [self.gripper]])
        return TeleopEvent(action, pressed, started, ended, clear, label)

    def check(self, now=None):
        """
        Return why an active takeover just ended, or None; once per takeover.

        It ends when no live message (module docstring) came for ``timeout_s``: 'joy silent
        for X s' when no fresh message came at all, 'joy repeated the same deflection for X s'
        when joy_node kept repeating one (a pad out of range), or when the clock ran backward.
        """
        now = self.clock() if now is None else now
        if not self.active:
            return None
        timeout = self.mapping.timeout_s
        if self.last_live is None or now < self.last_live:
            reason = 'joy clock ran backward (not monotonic)'
        elif now - self.last_live <= timeout:
            return None
        elif self.last_message is not None and now - self.last_message <= timeout:
            reason = (f'joy repeated the same deflection for {now - self.last_live:.2f} s '
                      f'(timeout {timeout} s): the pad is lost or frozen')
        else:
            reason = f'joy silent for {now - self.last_message:.2f} s (timeout {timeout} s)'
        self.active = False
        return reason
