"""The pages benchmark's CPU per request (benchmarks/pages.py) counts the PostgreSQL processes
that ended during a run: a connection older than CONN_MAX_AGE is closed and opened again while
the runs go on, and its server process's CPU was silently dropped."""

from benchmarks.pages import REAPED, cpu_used


def test_cpu_of_a_server_process_that_ended_during_the_run_is_counted_once():
    before = {"workers": {"10": 5.0}, "postgres": {REAPED: 100.0, "20": 3.0, "21": 1.0}}
    # 20 ended after using 3.5 s in all (0.5 s during the run): its whole life went to the
    # postmaster's reaped time. 22 started during the run and used 0.25 s; 21 used 0.5 s more.
    after = {"workers": {"10": 6.0}, "postgres": {REAPED: 103.5, "21": 1.5, "22": 0.25}}
    assert cpu_used(before, after) == {"workers": 1.0, "postgres": 0.5 + 0.5 + 0.25}


def test_cpu_without_any_process_ending_is_the_difference_of_each():
    before = {"workers": {"10": 5.0, "11": 2.0}, "postgres": {REAPED: 7.0, "20": 3.0}}
    after = {"workers": {"10": 5.5, "11": 2.25}, "postgres": {REAPED: 7.0, "20": 3.75}}
    assert cpu_used(before, after) == {"workers": 0.75, "postgres": 0.75}
