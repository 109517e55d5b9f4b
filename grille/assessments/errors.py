"""The refusals of a change to a positioning, shared by the services and the peer pool."""


class AssessmentError(Exception):
    """A refused change; the message is for the person, in their language."""

    status = 400


class AssessmentLocked(AssessmentError):
    status = 409
