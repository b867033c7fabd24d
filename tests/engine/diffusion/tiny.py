"""Tiny random-weight diffusers pipelines, built offline and saved to disk, so the engine's real
loading code (`DiffusionPipeline.from_pretrained(folder)`) runs in tests without a model hub."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def tiny_tokenizer() -> object:
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    words = ["<pad>", "</s>", "<unk>"] + [
        f"▁{w}" for w in ["a", "cat", "dog", "says", "hello", "in", "space", "the"]
    ]
    vocab = [(w, -float(i)) for i, w in enumerate(words)] + [
        (c, -20.0) for c in "abcdefghijklmnopqrstuvwxyz"
    ]
    model = models.Unigram(vocab, unk_id=2)
    tokenizer = Tokenizer(model)
    tokenizer.normalizer = normalizers.Lowercase()
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace()
    tokenizer.decoder = decoders.Metaspace()
    tokenizer.post_processor = processors.TemplateProcessing(
        single="$A </s>", special_tokens=[("</s>", 1)]
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=tokenizer, pad_token="<pad>", eos_token="</s>", unk_token="<unk>"
    )


def build_tiny_wan(folder: Path) -> Path:
    import torch
    from diffusers import (
        AutoencoderKLWan,
        FlowMatchEulerDiscreteScheduler,
        WanPipeline,
        WanTransformer3DModel,
    )
    from transformers import UMT5Config, UMT5EncoderModel

    torch.manual_seed(0)
    text_encoder = UMT5EncoderModel(
        UMT5Config(
            d_model=32,
            d_kv=8,
            d_ff=64,
            num_layers=2,
            num_heads=4,
            relative_attention_num_buckets=8,
            vocab_size=64,
        )
    )
    transformer = WanTransformer3DModel(
        patch_size=(1, 2, 2),
        num_attention_heads=2,
        attention_head_dim=12,
        in_channels=16,
        out_channels=16,
        text_dim=32,
        freq_dim=256,
        ffn_dim=32,
        num_layers=2,
        rope_max_seq_len=32,
    )
    vae = AutoencoderKLWan(
        base_dim=3,
        z_dim=16,
        dim_mult=[1, 1, 1, 1],
        num_res_blocks=1,
        temperal_downsample=[False, True, True],
    )
    pipe = WanPipeline(
        tokenizer=tiny_tokenizer(),
        text_encoder=text_encoder,
        transformer=transformer,
        vae=vae,
        scheduler=FlowMatchEulerDiscreteScheduler(shift=3.0),
    )
    pipe.save_pretrained(folder)
    return folder


def _tiny_gemma3(hidden_size: int) -> object:
    from transformers import Gemma3Config, Gemma3ForConditionalGeneration

    # LTX-2 reads every hidden layer of a Gemma 3 model; the vision tower is never run, so it
    # only has to be small enough to build quickly.
    config = Gemma3Config(
        text_config={
            "hidden_size": hidden_size,
            "intermediate_size": 32,
            "num_hidden_layers": 2,
            "num_attention_heads": 2,
            "num_key_value_heads": 1,
            "head_dim": 16,
            "vocab_size": 64,
            "max_position_embeddings": 128,
            "sliding_window": 16,
        },
        vision_config={
            "hidden_size": 16,
            "intermediate_size": 16,
            "num_hidden_layers": 1,
            "num_attention_heads": 2,
            "image_size": 16,
            "patch_size": 8,
        },
        mm_tokens_per_image=4,
    )
    return Gemma3ForConditionalGeneration(config)


def _ltx2_text_side() -> dict[str, object]:
    from diffusers.pipelines.ltx2 import LTX2TextConnectors

    # The connectors' heads x head_dim (4 x 8) must equal Gemma's hidden size.
    connectors = LTX2TextConnectors(
        caption_channels=32,
        text_proj_in_factor=3,  # Gemma's layers + 1
        video_connector_num_attention_heads=4,
        video_connector_attention_head_dim=8,
        video_connector_num_layers=1,
        video_connector_num_learnable_registers=None,
        audio_connector_num_attention_heads=4,
        audio_connector_attention_head_dim=8,
        audio_connector_num_layers=1,
        audio_connector_num_learnable_registers=None,
        connector_rope_base_seq_len=32,
        rope_double_precision=False,
        rope_type="split",
    )
    return dict(
        text_encoder=_tiny_gemma3(hidden_size=32),
        tokenizer=tiny_tokenizer(),
        connectors=connectors,
    )


def _ltx2_transformer() -> object:
    from diffusers import LTX2VideoTransformer3DModel

    return LTX2VideoTransformer3DModel(
        in_channels=4,
        out_channels=4,
        patch_size=1,
        patch_size_t=1,
        num_attention_heads=2,
        attention_head_dim=8,
        cross_attention_dim=16,
        audio_in_channels=4,
        audio_out_channels=4,
        audio_num_attention_heads=2,
        audio_attention_head_dim=4,
        audio_cross_attention_dim=8,
        num_layers=2,
        qk_norm="rms_norm_across_heads",
        caption_channels=32,
        rope_double_precision=False,
        rope_type="split",
    )


def _ltx2_video_vae() -> object:
    from diffusers import AutoencoderKLLTX2Video

    return AutoencoderKLLTX2Video(
        in_channels=3,
        out_channels=3,
        latent_channels=4,
        block_out_channels=(8,),
        decoder_block_out_channels=(8,),
        layers_per_block=(1,),
        decoder_layers_per_block=(1, 1),
        spatio_temporal_scaling=(True,),
        decoder_spatio_temporal_scaling=(True,),
        decoder_inject_noise=(False, False),
        downsample_type=("spatial",),
        upsample_residual=(False,),
        upsample_factor=(1,),
        timestep_conditioning=False,
        patch_size=1,
        patch_size_t=1,
        encoder_causal=True,
        decoder_causal=False,
    )


def _ltx2_audio_side() -> dict[str, object]:
    from diffusers import AutoencoderKLLTX2Audio
    from diffusers.pipelines.ltx2.vocoder import LTX2Vocoder

    audio_vae = AutoencoderKLLTX2Audio(
        base_channels=4,
        output_channels=2,
        ch_mult=(1,),
        num_res_blocks=1,
        in_channels=2,
        resolution=32,
        latent_channels=2,
        sample_rate=16000,
        mel_hop_length=160,
        mel_bins=8,
    )
    vocoder = LTX2Vocoder(
        in_channels=2 * 8,  # audio VAE output channels x mel bins
        hidden_channels=32,
        out_channels=2,
        # 10 x 16 = the audio VAE's hop of 160: the audio lasts as long as the video.
        upsample_kernel_sizes=[20, 32],
        upsample_factors=[10, 16],
        resnet_kernel_sizes=[3],
        resnet_dilations=[[1, 3, 5]],
        output_sampling_rate=16000,
    )
    return dict(audio_vae=audio_vae, vocoder=vocoder)


def build_tiny_ltx2(folder: Path) -> Path:
    """LTX-2 makes video and audio together: a tiny one, its audio stereo at 16 kHz."""
    import torch
    from diffusers import FlowMatchEulerDiscreteScheduler, LTX2Pipeline

    torch.manual_seed(0)
    pipe = LTX2Pipeline(
        scheduler=FlowMatchEulerDiscreteScheduler(),
        vae=_ltx2_video_vae(),
        transformer=_ltx2_transformer(),
        **_ltx2_text_side(),
        **_ltx2_audio_side(),
    )
    pipe.save_pretrained(folder)
    return folder


def tiny_request(**changes: Any) -> Any:
    """A request the tiny Wan can make: 9 frames (4k+1) at 64x64, 16 fps, 2 steps."""
    from engine.request import RenderRequest

    values: dict[str, Any] = {
        "prompt": 'a cat says "hello"',
        "seed": 3,
        "width": 64,
        "height": 64,
        "fps": 16,
        "frames": 9,
        "steps": 2,
        "duration_s": 9 / 16,
        "author": "tester",
        "job_id": "job-d",
    }
    return RenderRequest(**(values | changes))
