#!/usr/bin/env bash
# Records the example sessions shipped in this folder, with gradscope's own CLI:
#   bash sessions/record-examples.sh            (from the project folder, after .ci/bootstrap)
# The same task (adding, T=50) four ways: a vanishing RNN, an exploding RNN without and with
# clipping, and an LSTM. The RNNs are one run of 600 steps each, probed every 10th step. The
# LSTM needs longer: at Adam's default rate it sits at the baseline for thousands of steps, so
# it trains 2,000 steps at a rate of 0.01 and learns the task at about step 1,000, when its
# forget gates open; it is probed every 80th step and checkpointed every 250th (its gates make
# a probe bigger), which keeps the file near 3 MB. Later options override `common`.
set -uo pipefail
cd "$(dirname "$0")/.."
gradscope=(${GRADSCOPE:-.venv/bin/gradscope})
common=(--task adding --seq-len 50 --hidden 32 --steps 600 --probe-every 10 --checkpoint-every 100 --seed 1 --force)
record() {
    "${gradscope[@]}" record "${common[@]}" "$@"
    status=$?
    # 3 is a run that diverged: recorded up to the divergence, which is worth showing
    if [ "$status" -ne 0 ] && [ "$status" -ne 3 ]; then exit "$status"; fi
}
record --arch rnn --init orthogonal --rho 0.5 -o sessions/vanishing-rnn.gscope
record --arch rnn --init orthogonal --rho 1.6 --optimizer sgd --lr 0.05 -o sessions/exploding-rnn.gscope
record --arch rnn --init orthogonal --rho 1.6 --optimizer sgd --lr 0.05 --clip-norm 1 -o sessions/exploding-rnn-clipped.gscope
record --arch lstm --lr 0.01 --steps 2000 --probe-every 80 --checkpoint-every 250 -o sessions/lstm.gscope
ls -l sessions/*.gscope
