"""
config/sros2: who may command the robot.

The SROS2 policy allows only the operator enclave to publish /vla/command (and the operator and the
e-stop panel /vla/estop), names the real nodes and topics, and config/sros2/permissions.xml is the
DDS translation of exactly that policy.

Only the XML is checked here: the Fast DDS in our wheels has no DDS-Security, so enforcement
itself is not exercised (docs/policy.md, "Who may command the robot").
"""

from __future__ import annotations

import fnmatch
import re
import xml.etree.ElementTree as ET

import pytest
from vla_ros import constants as C

SROS2 = 'config/sros2'
DISCOVERY = 'ros_discovery_info'


@pytest.fixture
def policy(repo_root) -> ET.Element:
    root = ET.parse(repo_root / SROS2 / 'policy.xml').getroot()
    assert root.tag == 'policy' and root.get('version') == '0.2.0'
    return root


@pytest.fixture
def permissions(repo_root) -> ET.Element:
    root = ET.parse(repo_root / SROS2 / 'permissions.xml').getroot()
    assert root.tag == 'dds'
    return root


def _resolve(name: str, node: str) -> str:
    return f'/{node}{name[1:]}' if name.startswith('~') else name


def rules(policy: ET.Element) -> dict[str, dict[str, set[str]]]:
    """
    Return enclave -> {'publish'|'subscribe': DDS topic names}.

    Topic names as sros2's permissions.xsl translates them (rt/ topics; a service reply is
    rr/...Reply out, rq/...Request in).
    """
    out: dict[str, dict[str, set[str]]] = {}
    for enclave in policy.iter('enclave'):
        acc = out.setdefault(enclave.get('path'), {'publish': set(), 'subscribe': set()})
        for profile in enclave.iter('profile'):
            node = profile.get('node')
            assert profile.get('ns') == '/', 'examples are in the root namespace'
            for topics in profile.findall('topics'):
                for direction in ('publish', 'subscribe'):
                    if topics.get(direction) == 'ALLOW':
                        acc[direction] |= {'rt' + _resolve(t.text, node)
                                           for t in topics.findall('topic')}
            for services in profile.findall('services'):
                assert services.get('reply') == 'ALLOW' and services.get('request') is None
                for s in services.findall('service'):
                    acc['publish'].add(f'rr{_resolve(s.text, node)}Reply')
                    acc['subscribe'].add(f'rq{_resolve(s.text, node)}Request')
            assert not [e for e in profile.iter() if 'DENY' in e.attrib.values()]
    return out


def writers(policy: ET.Element, topic: str) -> set[tuple[str, str]]:
    """(enclave, node) pairs allowed to publish ``topic`` (wildcards matched)."""
    found = set()
    for enclave in policy.iter('enclave'):
        for profile in enclave.iter('profile'):
            for topics in profile.findall('topics'):
                if topics.get('publish') == 'ALLOW' and any(
                        fnmatch.fnmatchcase(topic, _resolve(t.text, profile.get('node')))
                        for t in topics.findall('topic')):
                    found.add((enclave.get('path'), profile.get('node')))
    return found


def test_only_the_operator_commands_and_only_operator_and_panel_stop(policy):
    # the policy's examples are in the root namespace: topics resolved there
    command, estop = C.namespaced(C.COMMAND_TOPIC), C.namespaced(C.ESTOP_TOPIC)
    assert writers(policy, command) == {('/vla_ros/operator', 'vla_ros_command')}
    assert writers(policy, estop) == {('/vla_ros/operator', 'vla_ros_command'),
                                      ('/vla_ros/estop_panel', 'estop_panel')}
    # the policy itself may read both, but never write them
    pol = rules(policy)['/vla_ros/policy']
    assert {'rt' + command, 'rt' + estop} <= pol['subscribe']
    assert not {'rt' + command, 'rt' + estop} & pol['publish']


def test_policy_names_the_real_nodes_and_topics(policy, repo_root):
    nodes = {p.get('node') for p in policy.iter('profile')}
    sources = {'vla_policy': 'vla_ros/nodes/vla_policy.py',
               'multimodal_sync': 'vla_ros/nodes/multimodal_sync.py',
               'fake_sensors': 'vla_ros/nodes/fake_sensors.py',
               'vla_ros_command': 'vla_ros/cli/command_cmd.py',
               'vla_ros_status': 'vla_ros/cli/status_cmd.py'}
    assert nodes <= set(sources) | {'estop_panel'}
    for node, path in sources.items():
        if node in nodes:
            assert re.search(rf"""['"]{node}['"]""", (repo_root / path).read_text()), node
    sub = rules(policy)['/vla_ros/policy']['subscribe']
    for topic in (C.camera_topic('front'), C.camera_topic('wrist'), C.AUDIO_TOPIC,
                  C.TACTILE_TOPIC, C.JOINT_STATES_TOPIC, '/clock'):
        assert any(fnmatch.fnmatchcase('rt' + C.namespaced(topic), t) for t in sub), topic
    pub = rules(policy)['/vla_ros/policy']['publish']
    assert {'rt/vla_policy/status', 'rt/arm_controller/joint_trajectory',
            'rt/gripper_controller/commands'} <= pub


def test_permissions_file_is_the_translation_of_the_policy(policy, permissions):
    want = rules(policy)
    grants = permissions.find('permissions').findall('grant')
    assert [g.get('name') for g in grants] == list(want)
    for g in grants:
        name = g.get('name')
        assert g.findtext('subject_name') == f'CN={name}'
        assert g.findtext('default') == 'DENY'
        assert g.find('deny_rule') is None
        got = {'publish': set(), 'subscribe': set()}
        for rule in g.findall('allow_rule'):
            for direction in got:
                got[direction] |= {t.text for t in rule.findall(f'{direction}/topics/topic')}
        for direction in got:
            assert got[direction] - {DISCOVERY} == want[name][direction], (name, direction)
