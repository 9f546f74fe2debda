"""The named presets of every page: the demos a lecturer opens, as values of the pages' widget keys.

Each value is one its widget accepts (an option of a choice, a step of a slider); a preset never
starts training (that is always a button). tests/app/test_presets.py opens every one of them.
"""

from __future__ import annotations

from seqviz.ui.presets import Preset

FOUR_OBJECTS = ("a blue circle top left and a yellow circle top right and a red square bottom left and "
                "a green triangle bottom right.")   # scenes.EXAMPLES[3]

PRESETS: dict[str, tuple[Preset, ...]] = {
    "pages/memory_tasks.py": (
        Preset("memory", "Token positions drawn from one range for training and validation: all four "
               "shipped models (seed 0) reach 100% validation accuracy.",
               {"mem_task": "memory", "mem_len": 20, "mem_hid": 32, "mem_steps": 400, "mem_lr": 0.01,
                "mem_rnn_tanh": True, "mem_lstm": True, "mem_gru": True, "mem_tcn": True}),
        Preset("memorygen", "Trained with the token in the first half, validated in the second: the same "
               "models now have to generalise to positions they never saw, and the seed strip shows how "
               "often they do.",
               {"mem_task": "memorygen", "mem_len": 20, "mem_hid": 32, "mem_steps": 400, "mem_lr": 0.01,
                "mem_rnn_tanh": True, "mem_lstm": True, "mem_gru": True, "mem_tcn": True,
                "mem_seed_metric": "val_accuracy"}),
        Preset("memorygen fits training", "memorygen again, the seed strip switched to accuracy on the "
               "training distribution: models that fit training well can still fail validation.",
               {"mem_task": "memorygen", "mem_seed_metric": "fit_accuracy"}),
    ),
    "pages/hidden_state.py": (
        Preset("LSTM holds the token", "The shipped LSTM: the hidden state changes with the token from the "
               "step it arrives while the output says 'nothing yet' until the request; the probe reads it "
               "long before $y_t$ does.",
               {"hid_kind": "LSTM", "hid_source": "shipped checkpoint", "hid_len": 20, "hid_pos": 5,
                "hid_token": 2}),
        Preset("Long wait, tanh RNN", "The shipped tanh RNN with the token at step 2 of 40, twice the length "
               "it was trained on: does its state still hold the token at the request?",
               {"hid_kind": "RNN (tanh)", "hid_source": "shipped checkpoint", "hid_len": 40, "hid_pos": 2,
                "hid_token": 3}),
        Preset("Untrained: the token fades", "An untrained GRU: random recurrent dynamics keep the token "
               "readable for a few steps, then the probe falls to chance; the output means nothing.",
               {"hid_kind": "GRU", "hid_source": "untrained", "hid_len": 20, "hid_pos": 5, "hid_token": 2}),
    ),
    "pages/gradients.py": (
        Preset("Vanishing gradients", r"$W_{hh} = 0.9\times$ orthogonal over 200 steps: $\sigma_{\max} < 1$, "
               r"so the tanh RNN's gradient must fall at least like $0.9^{T-t}$, a straight line down the "
               "log axis.",
               {"grad_len": 200, "grad_hid": 64, "grad_rho": 0.9, "grad_fb": 1.0, "grad_weights": "fresh",
                "grad_clip_on": False}),
        Preset("Exploding gradients", r"$W_{hh} = 1.5\times$ orthogonal over 500 steps: $\sigma_{\max} > 1$ "
               "and the tanh RNN's gradient grows with the distance from the loss instead of fading; the ReLU "
               "RNN's answer saturates and its gradient is flagged.",
               {"grad_len": 500, "grad_hid": 64, "grad_rho": 1.5, "grad_fb": 1.0, "grad_weights": "fresh",
                "grad_clip_on": False}),
        Preset("Clipping an explosion", "The same explosion with the gradient norm clipped at 1: the curves "
               "move down as a block, their shape stays.",
               {"grad_len": 500, "grad_hid": 64, "grad_rho": 1.5, "grad_fb": 1.0, "grad_weights": "fresh",
                "grad_clip_on": True, "grad_clip": 1.0}),
        Preset("LSTM forget bias", r"$\rho = 0.9$ with the LSTM's forget-gate bias $b_f = 5$: the forget gate "
               "sits near 1 and the LSTM's curve flattens while the tanh RNN's vanishes.",
               {"grad_len": 200, "grad_hid": 64, "grad_rho": 0.9, "grad_fb": 5.0, "grad_weights": "fresh",
                "grad_clip_on": False}),
    ),
    "pages/sequence_architectures.py": (
        Preset("Encoder-decoder", "Six inputs read before three outputs are written: every input must pass "
               "through one context vector.",
               {"arch_pattern": "encoder-decoder", "arch_t_in": 6, "arch_t_out": 3, "arch_quiz": False}),
        Preset("One-to-many", "One image in, a caption of five words out, each word fed back in.",
               {"arch_pattern": "one-to-many", "arch_t_out": 5, "arch_quiz": False}),
        Preset("Quiz", "The answers hidden: the class picks the pattern of each task before it is shown.",
               {"arch_quiz": True}),
    ),
    "pages/softmax_flattening.py": (
        Preset("One-hot at D = 10", "The default: $c = 1$ at $D = 10$ already gives the hot entry only 0.232.",
               {"D": 10, "c": 1.0, "p": 0.9, "dk": 64}),
        Preset("Flat at large D", r"$D = 100{,}000$: the hot entry gets $2.7\times 10^{-5}$, barely above the others' "
               r"$10^{-5}$; the output is almost uniform.",
               {"D": 100_000, "c": 1.0}),
        Preset("Logit gap for p = 0.9", r"$D = 1000$ needs $c \ge 9.104$ to keep 90% on the hot entry; $c = 9.2$ is "
               "just enough.",
               {"D": 1000, "c": 9.2, "p": 0.9}),
        Preset("Unscaled scores saturate", r"$d_k = 512$: unscaled dot products spread over about $\pm 70$ "
               r"and the softmax picks one key; dividing by $\sqrt{d_k}$ keeps it soft.",
               {"dk": 512}),
    ),
    "pages/attention_playground.py": (
        Preset("Worked example", r"The default: the $5\times 4$ queries, 3 keys and values of the worked "
               "example, softmax over the keys; query 1 scores every key equally and outputs the mean of $V$.",
               {"att_source": "Worked example", "att_softmax": True, "att_wrong_axis": False, "att_heads": 2}),
        Preset("Without the softmax", r"The worked example with $\text{output} = QK^\top V/\sqrt{d_k}$: exactly "
               "[[11, 15, 18], [5, 6.5, 7.5], [2, 2.5, 3], [0.5, 1, 1.5], [3.5, 5, 6]].",
               {"att_source": "Worked example", "att_softmax": False, "att_wrong_axis": False}),
        Preset("Wrong-axis softmax", "The softmax taken down the columns (over queries): rows no longer sum "
               "to 1 and each output depends on the other queries.",
               {"att_source": "Worked example", "att_softmax": True, "att_wrong_axis": True}),
        Preset("Random, four heads", r"Random $6\times 8$ queries and keys split into 4 heads: each head "
               "compares on its own slice of $d_k$ and attends to different keys.",
               {"att_source": "Random", "att_nq": 6, "att_nkv": 6, "att_dk": 8, "att_dv": 3, "att_heads": 4,
                "att_softmax": True, "att_wrong_axis": False}),
    ),
    "pages/identity_attention.py": (
        Preset("Large c copies V", "$N = 4$, $c = 20$: the diagonal weights are 0.99986, the others 0.00005 "
               "each, so the output is $V$ to the eye.",
               {"id_n": 4, "id_c": 20.0}),
        Preset("Q = K is not enough", r"$N = 8$ with $c = 1$ ($Q = K = I$) and $Q = K = \hat{x}$: the diagonal is the "
               "largest weight of each row, but far from one-hot.",
               {"id_n": 8, "id_c": 1.0, "id_scale": 1.0}),
        Preset("More tokens, same c", r"$N = 16$ at $c = 5$: more competitors and a larger $\sqrt{N}$ leave the "
               "weights spread; $c$ must grow with $N$.",
               {"id_n": 16, "id_c": 5.0}),
    ),
    "pages/permutation.py": (
        Preset("No positions: equivariant", "Image patches, a random permutation, no positional encoding: "
               r"$f(PX)$ equals $P\,f(X)$ up to float32 rounding.",
               {"perm_tokens": "image patches", "perm_patch": "8 × 8", "perm_kind": "random",
                "perm_pos": "none"}),
        Preset("Sinusoidal positions", "The same block and permutation with sinusoidal positions: the "
               "difference is as large as the features themselves.",
               {"perm_tokens": "image patches", "perm_patch": "8 × 8", "perm_kind": "random",
                "perm_pos": "sinusoidal"}),
        Preset("Swap two, learned positions", r"$4\times 4$ patches, only the first and last token swapped, learned "
               "positions: the tokens left in place still change, through attention.",
               {"perm_tokens": "image patches", "perm_patch": "4 × 4", "perm_kind": "swap first and last",
                "perm_pos": "learned"}),
    ),
    "pages/attention_vs_conv.py": (
        Preset("Four layers on 128 × 128", "The default stack: outputs 63, 63, 63, 30 and a receptive field "
               "of 23 pixels, under a fifth of the image.",
               {"conv_n": 128}),
        Preset("Large image", r"A $1024\times 1024$ input, where four layers still see 23 pixels, and a "
               r"benchmark up to $512\times 512$ under a 256 MiB budget: press Run benchmark; attention stops "
               r"after $64\times 64$ (2 GiB of matrices at $128\times 128$) while the convolution goes on.",
               {"conv_n": 1024, "conv_max_side": 512, "conv_channels": 32, "conv_kernel": 3,
                "conv_budget": 256}),
        Preset("Tight memory budget", r"A 16 MiB budget up to $128\times 128$: press Run benchmark; "
               r"attention's $N\times N$ matrices need 130 MiB at $64\times 64$, so it is skipped from there, "
               "while the convolution, about 1 MiB, runs every size.",
               {"conv_max_side": 128, "conv_channels": 32, "conv_kernel": 3, "conv_budget": 16}),
    ),
    "pages/words_to_regions.py": (
        Preset("Two objects, trained", "The default sentence with the trained models: the map shows which "
               "words each quadrant reads.",
               {"wr_stage": "trained", "wr_model": "0",
                "wr_text": "a red circle top left and a blue square bottom right."}),
        Preset("Four objects, early", "The four-object example with the models of seed 0 after 800 steps: "
               "cross-attention already draws all four right, the one-vector model gets a colour wrong.",
               {"wr_stage": "early", "wr_model": "0", "wr_text": FOUR_OBJECTS, "wr_objects": 4}),
        Preset("Never read four objects", "Models trained on sentences of at most three objects, given the "
               "four-object example; the table below measures them on every length.",
               {"wr_stage": "upto3", "wr_model": "0", "wr_text": FOUR_OBJECTS, "wr_objects": 4}),
    ),
    "pages/predictive_vit.py": (
        Preset("Prediction", "The full model on the textured synthetic game: its prediction of the next "
               "frame against copying the last one.",
               {"vit_model": "Full", "vit_source": "Synthetic game", "vit_texture": True,
                "vit_tab": "Prediction"}),
        Preset("Attention", "The attention tab: where the middle patch of the last frame looks, in layer 1, "
               "head 1, of the full model.",
               {"vit_model": "Full", "vit_source": "Synthetic game", "vit_tab": "Attention", "vit_layer": 1,
                "vit_head": 1, "vit_row": 4, "vit_col": 4}),
        Preset("Ablations", "Every shipped variant on the held-out games: without self-attention or "
               "positions, which pixels get worse than copying.",
               {"vit_tab": "Ablations", "vit_ablation_mode": "Many games (held-out test games)"}),
        Preset("No positions, flat background", "No positional embeddings on a flat background: nothing in "
               "the content says where a patch is.",
               {"vit_model": "No positions, flat background", "vit_source": "Synthetic game",
                "vit_texture": False, "vit_tab": "Prediction"}),
    ),
    "pages/video_captioning.py": (
        Preset("Late event, wait-k 2", "Late clip 3: the red square disappears at frame 20 of 24. Live with "
               "$k = 2$, every word is written before it happens: the guess 'moves left' is wrong.",
               {"cap_source": "Late clip", "cap_late": 3, "cap_seed": "0", "cap_k": 2, "cap_redecode": False,
                "cap_tab": "Watch a clip"}),
        Preset("Late event, wait-k 20", "The same clip with $k = 20$: the live captioner waits until the square "
               "disappears and says so, at the price of lagging behind the clip.",
               {"cap_source": "Late clip", "cap_late": 3, "cap_seed": "0", "cap_k": 20, "cap_redecode": False,
                "cap_tab": "Watch a clip"}),
        Preset("Order pair", "The same frames forwards (a triangle moving left) and backwards: the per-frame "
               "captioner's average is the same for both, the offline and live captioners tell them apart.",
               {"cap_source": "Order pair", "cap_pair": 0, "cap_pair_side": "first", "cap_seed": "0", "cap_k": 3,
                "cap_redecode": False, "cap_variant": "offline", "cap_tab": "Watch a clip"}),
        Preset("Quality against latency", "Over the test set: how exact event order grows with the wait $k$, "
               "from guessing to the offline captioner.",
               {"cap_tab": "Over the test set", "cap_k": 3, "cap_metric": "order, 2+ events"}),
    ),
}
