"""The WordNet 3.0 reader on the Debian wordnet-base files."""

from __future__ import annotations

import pytest
from vla_ros.core.language import WordNet
from vla_ros.errors import ConfigError


@pytest.fixture(scope='module')
def wordnet():
    wn = WordNet()
    yield wn
    wn.close()


def test_inflections_reach_their_lemma(wordnet):
    assert wordnet.base_forms('raised', 'v')[0] == 'raise'
    assert 'seize' in wordnet.base_forms('seizing', 'v')
    assert wordnet.base_forms('boxes', 'n') == ['box']
    assert wordnet.base_forms('ran', 'v') == ['run']   # the exception list


def test_synsets_carry_lemmas_gloss_and_hypernyms(wordnet):
    lift = [s for s in wordnet.synsets('raise', 'v') if 'lift' in s.lemmas]
    assert lift and 'higher position' in lift[0].gloss
    crimson = wordnet.synsets('crimson', 'n')[0]
    assert any('red' in h.lemmas for h in wordnet.related(crimson, ('@',)))
    assert wordnet.synsets('qwzxv') == []


def test_a_missing_database_says_what_to_install(tmp_path):
    with pytest.raises(ConfigError, match='wordnet-base'):
        WordNet(tmp_path)
