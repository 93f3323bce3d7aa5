# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Build script: an ament_python ROS 2 package that is also a plain pip distribution."""

from glob import glob

from setuptools import find_packages, setup

package_name = 'robodopamine_ros'

# Executables `ros2 run robodopamine_ros <name>` finds (setup.cfg puts them in lib/<package>).
# ROS nodes are added here by the issues that build them; the launch-file check in the test
# suite reads this list.
NODE_SCRIPTS = [
    'grm_node = robodopamine_ros.nodes.grm_node:main',
    'recorder_node = robodopamine_ros.nodes.recorder_node:main',
    'rl_agent_node = robodopamine_ros.nodes.rl_agent_node:main',
    'teleop_node = robodopamine_ros.nodes.teleop_node:main',
    'shaping_node = robodopamine_ros.nodes.shaping_node:main',
    'sim_robot_node = robodopamine_ros.nodes.sim_robot_node:main',
    'gripper_node = robodopamine_ros.nodes.gripper_node:main',
    'sim_operator_node = robodopamine_ros.nodes.sim_operator_node:main',
    'grm_refresh_node = robodopamine_ros.nodes.grm_refresh_node:main',
    'learner_node = robodopamine_ros.nodes.learner_node:main',
]

setup(
    name=package_name,
    version='0.1.0',
    packages=find_packages(exclude=['test', 'test.*']),
    # Our .msg files (robodopamine_ros/data/msg links to ../robodopamine_interfaces/msg), so the
    # ROS-free bag tools register our types from the one source of truth.
    # ...the VLM prompt templates and the pre-trained compact GRM (grm/pretrained/MODEL_CARD.md)
    package_data={package_name: ['data/msg/*.msg', 'grm/prompts/*.txt', 'grm/pretrained/*']},
    data_files=[
        ('share/ament_index/resource_index/packages', ['resource/' + package_name]),
        ('share/' + package_name, ['package.xml']),
        ('share/' + package_name + '/launch', glob('launch/*.launch.py')),
        ('share/' + package_name + '/config', glob('config/*.yaml') + glob('config/*.xml')
         + glob('config/*.json')),
    ],
    python_requires='>=3.10',
    install_requires=[
        'setuptools',
        'numpy>=1.24',
        'scipy>=1.10',            # Kendall tau (metrics.outcome_ranking)
        'opencv-python-headless>=4.8',
        'pyyaml>=6',
        'torch>=2.10',          # weights_only loading safe (rl/acting.py MIN_TORCH)
        'rosbags>=0.10',
        'tqdm>=4',
        'matplotlib>=3.6',
        'safetensors>=0.4',
    ],
    extras_require={
        'test': ['pytest>=7', 'hypothesis>=6'],
        'tensorboard': ['tensorboard>=2.14'],  # training logs; CSV is always written
        'sim': ['metaworld==3.1.1', 'mujoco==3.3.0', 'gymnasium>=1.0', 'packaging'],
        'vlm': ['transformers>=5.0', 'peft>=0.13', 'tokenizers>=0.20'],
        # grm_node backend openai: a GRM behind vLLM / SGLang (grm/served.py)
        'openai': ['openai>=1.40'],
        # robodopamine export-lerobot: our LeRobotDataset v3.0 writer (not lerobot itself,
        # whose releases cap torch below ours: docs/decisions.md)
        'lerobot': ['av>=15,<16', 'pyarrow>=21', 'pandas>=2'],
    },
    zip_safe=True,
    maintainer='robodopamine_ros maintainers',
    maintainer_email='robodopamine@example.org',
    description='Robo-Dopamine reward model, shaping and human-in-the-loop RL for ROS 2.',
    license='Apache-2.0',
    entry_points={
        'console_scripts': [
            'robodopamine = robodopamine_ros.commands.cli:main',
        ] + NODE_SCRIPTS,
    },
)
