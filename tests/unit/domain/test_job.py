import pytest

from pixserve.core.errors import IllegalTransition, InvalidCrop
from pixserve.domain.job import Crop, JobStatus, new_job_id


def test_terminal_statuses():
    terminal = {s for s in JobStatus if s.is_terminal}
    assert terminal == {
        JobStatus.SUCCEEDED,
        JobStatus.FAILED,
        JobStatus.CANCELED,
        JobStatus.EXPIRED,
    }


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("queued", "running"),
        ("queued", "canceled"),
        ("running", "queued"),
        ("running", "succeeded"),
        ("running", "failed"),
        ("running", "canceled"),
        ("succeeded", "expired"),
    ],
)
def test_legal_transitions(old, new):
    assert JobStatus(old).check_transition(JobStatus(new)) is JobStatus(new)


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("queued", "succeeded"),
        ("queued", "failed"),
        ("succeeded", "running"),
        ("failed", "queued"),
        ("canceled", "running"),
        ("expired", "queued"),
        ("running", "running"),
    ],
)
def test_illegal_transitions_raise(old, new):
    with pytest.raises(IllegalTransition) as info:
        JobStatus(old).check_transition(JobStatus(new))
    assert info.value.code == "illegal_transition"


def test_terminal_statuses_go_nowhere_but_expiry():
    for status in JobStatus:
        if status.is_terminal:
            assert not status.can_become(JobStatus.RUNNING)
            assert not status.can_become(JobStatus.QUEUED)


def test_job_ids_are_random_and_long():
    ids = {new_job_id() for _ in range(1000)}
    assert len(ids) == 1000
    assert all(len(i) == 22 for i in ids)  # 16 random bytes, URL-safe base64


def test_crop_parse_round_trip():
    crop = Crop.parse(" 10, 20,30 ,40")
    assert crop == Crop(10, 20, 30, 40)
    assert Crop.parse(str(crop)) == crop


@pytest.mark.parametrize("text", ["", "1,2,3", "1,2,3,4,5", "a,b,c,d", "0,0,0,5", "-1,0,5,5"])
def test_crop_parse_rejects(text):
    with pytest.raises(InvalidCrop):
        Crop.parse(text)
