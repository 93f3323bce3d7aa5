# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
