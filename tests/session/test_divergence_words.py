"""What became NaN or infinite, said in words: a divergence event names every series that did
(loss, grad_norm and each parameter's gradient norm, eight at most), and the banner, the event
list and the plots' markers once printed those raw names, four lines of them."""
from gradscope.records import Event, EventKind, non_finite_words

NAMES = "loss, grad_norm, param_grad_norm/core.weight_ih_l0, param_grad_norm/core.weight_hh_l0, " \
        "param_grad_norm/head.bias"


def test_the_series_are_said_in_words_and_the_parameters_counted():
    assert non_finite_words(NAMES) == "the loss, the gradient norm and the gradients of 3 parameters"
    assert non_finite_words(NAMES, short=True) == "loss, gradient norm, 3 parameters' gradients"
    assert non_finite_words("loss") == "the loss"
    assert non_finite_words("param_grad_norm/head.weight") == "the gradient of 1 parameter"
    assert non_finite_words("param_grad_norm/head.weight", short=True) == "1 parameter's gradient"


def test_a_name_it_does_not_know_is_kept_as_the_file_has_it():
    assert non_finite_words("loss, something else") == "the loss and something else"
    assert non_finite_words("", short=True) == ""
    assert non_finite_words(" , ") == "something"          # an event naming nothing still reads


def test_the_event_lists_entry_is_short():
    event = Event(step=78, kind=EventKind.DIVERGED, detail={"non_finite": NAMES})
    assert event.label == "DIVERGED (loss, gradient norm, 3 parameters' gradients)"
    assert Event(step=78, kind=EventKind.DIVERGED, detail={"non_finite": "loss"}).label == "DIVERGED (loss)"
