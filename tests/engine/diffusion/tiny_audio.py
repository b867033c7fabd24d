"""Tiny random-weight diffusers text-to-audio pipelines (CLIPCREW_AUDIO_MODEL), built offline and
saved to disk like the video ones in `tiny.py`."""

from __future__ import annotations

from pathlib import Path

from tests.engine.diffusion.tiny import tiny_tokenizer


def _stable_audio_transformer() -> object:
    from diffusers import StableAudioDiTModel

    return StableAudioDiTModel(
        sample_size=1024,  # latent frames: with the VAE's hop of 2, 2048 samples
        in_channels=3,
        num_layers=2,
        attention_head_dim=4,
        num_key_value_attention_heads=2,
        out_channels=3,
        cross_attention_dim=4,
        time_proj_dim=8,
        global_states_input_dim=8,
        cross_attention_input_dim=4,
    )


def build_tiny_stable_audio(folder: Path) -> Path:
    """An ambience model: a tiny StableAudioPipeline making up to ~1 s of stereo at 2 kHz."""
    import torch
    from diffusers import (
        AutoencoderOobleck,
        EDMDPMSolverMultistepScheduler,
        StableAudioPipeline,
        StableAudioProjectionModel,
    )
    from transformers import T5Config, T5EncoderModel

    torch.manual_seed(0)
    transformer = _stable_audio_transformer()
    vae = AutoencoderOobleck(
        encoder_hidden_size=6,
        downsampling_ratios=[1, 2],
        decoder_channels=3,
        decoder_input_channels=3,
        audio_channels=2,
        channel_multiples=[2, 4],
        sampling_rate=2000,
    )
    text_encoder = T5EncoderModel(
        T5Config(d_model=32, d_kv=8, d_ff=64, num_layers=2, num_heads=4, vocab_size=64)
    )
    projection_model = StableAudioProjectionModel(
        text_encoder_dim=32, conditioning_dim=4, min_value=0, max_value=32
    )
    tokenizer = tiny_tokenizer()
    # The pipeline pads prompts to the tokenizer's maximum length.
    tokenizer.model_max_length = 16  # type: ignore[attr-defined]
    pipe = StableAudioPipeline(
        vae=vae,
        text_encoder=text_encoder,
        projection_model=projection_model,
        tokenizer=tokenizer,
        transformer=transformer,
        scheduler=EDMDPMSolverMultistepScheduler(prediction_type="v_prediction", sigma_data=1.0),
    )
    pipe.save_pretrained(folder)
    return folder


def _roberta_and_t5_tokenizers() -> tuple[object, object]:
    """AudioLDM 2 picks its code path by tokenizer class: a real RobertaTokenizer and
    T5Tokenizer, built from tiny vocabularies (the pipeline pads to model_max_length)."""
    from transformers import RobertaTokenizer, T5Tokenizer

    chars = list("abcdefghijklmnopqrstuvwxyz")
    specials = ["<s>", "<pad>", "</s>", "<unk>", "<mask>", "Ġ"]
    vocab = {token: i for i, token in enumerate(specials + chars)}
    roberta = RobertaTokenizer(vocab=vocab, merges=[], model_max_length=64)
    pieces = [("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0), ("▁", -1.0)]
    t5 = T5Tokenizer(vocab=pieces + [(c, -2.0) for c in chars], extra_ids=0, model_max_length=64)
    return roberta, t5


def _tiny_clap() -> object:
    from transformers import ClapAudioConfig, ClapConfig, ClapModel, ClapTextConfig

    text = ClapTextConfig(
        bos_token_id=0,
        eos_token_id=2,
        pad_token_id=1,
        hidden_size=16,
        intermediate_size=37,
        num_attention_heads=2,
        num_hidden_layers=2,
        vocab_size=64,
        projection_dim=16,
    )
    audio = ClapAudioConfig(
        spec_size=64,
        window_size=4,
        num_mel_bins=64,
        intermediate_size=37,
        depths=[2, 2],
        num_attention_heads=[2, 2],
        num_hidden_layers=2,
        hidden_size=192,
        projection_dim=16,
        patch_size=2,
        patch_stride=2,
        patch_embed_input_channels=4,
    )
    config = ClapConfig(text_config=text.to_dict(), audio_config=audio.to_dict(), projection_dim=16)
    return ClapModel(config)


def _audioldm2_language_side() -> dict[str, object]:
    from diffusers.pipelines.audioldm2 import AudioLDM2ProjectionModel
    from transformers import GPT2Config, GPT2LMHeadModel, T5Config, T5EncoderModel

    language_model = GPT2LMHeadModel(
        GPT2Config(n_embd=16, n_head=2, n_layer=2, vocab_size=64, n_ctx=99, n_positions=99)
    )
    language_model.config.max_new_tokens = 8
    tokenizer, tokenizer_2 = _roberta_and_t5_tokenizers()
    return dict(
        text_encoder=_tiny_clap(),
        text_encoder_2=T5EncoderModel(
            T5Config(vocab_size=64, d_model=32, d_ff=37, d_kv=8, num_heads=2, num_layers=2)
        ),
        projection_model=AudioLDM2ProjectionModel(
            text_encoder_dim=16, text_encoder_1_dim=32, langauge_model_dim=16
        ),
        language_model=language_model,
        tokenizer=tokenizer,
        tokenizer_2=tokenizer_2,
    )


def _audioldm2_sound_side() -> dict[str, object]:
    from diffusers import AutoencoderKL
    from diffusers.pipelines.audioldm2 import AudioLDM2UNet2DConditionModel
    from transformers import ClapFeatureExtractor, SpeechT5HifiGan, SpeechT5HifiGanConfig

    unet = AudioLDM2UNet2DConditionModel(
        block_out_channels=(32, 64),
        layers_per_block=1,
        sample_size=32,
        in_channels=4,
        out_channels=4,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        cross_attention_dim=([None, 16, 32], [None, 16, 32]),
    )
    vae = AutoencoderKL(
        block_out_channels=[32, 64],
        in_channels=1,
        out_channels=1,
        down_block_types=["DownEncoderBlock2D"] * 2,
        up_block_types=["UpDecoderBlock2D"] * 2,
        latent_channels=4,
    )
    vocoder = SpeechT5HifiGan(
        SpeechT5HifiGanConfig(
            model_in_dim=64,
            sampling_rate=16000,
            upsample_initial_channel=16,
            # 10 x 16 = the mel hop of 160 samples: the audio lasts as long as asked.
            upsample_rates=[10, 16],
            upsample_kernel_sizes=[20, 32],
            resblock_kernel_sizes=[3],
            resblock_dilation_sizes=[[1, 3, 5]],
            normalize_before=False,
        )
    )
    return dict(unet=unet, vae=vae, vocoder=vocoder, feature_extractor=ClapFeatureExtractor())


def build_tiny_audioldm2(folder: Path) -> Path:
    """An ambience model: a tiny AudioLDM2Pipeline making mono audio at 16 kHz."""
    import torch
    from diffusers import AudioLDM2Pipeline, DDIMScheduler

    torch.manual_seed(0)
    scheduler = DDIMScheduler(
        beta_start=0.00085,
        beta_end=0.012,
        beta_schedule="scaled_linear",
        clip_sample=False,
        set_alpha_to_one=False,
    )
    pipe = AudioLDM2Pipeline(
        scheduler=scheduler, **_audioldm2_language_side(), **_audioldm2_sound_side()
    )
    pipe.save_pretrained(folder)
    return folder
