"""Generate a large LiteLLM config for benchmarks: N deployments mixing every pricing situation.

    python benchmarks/gen_config.py 2000 > /tmp/big.yaml
"""

from __future__ import annotations

import argparse
import random

MODELS = ["openai/gpt-4o", "openai/gpt-4o-mini", "openai/gpt-4.1", "anthropic/claude-sonnet-4-5",
          "anthropic/claude-haiku-4-5", "gemini/gemini-2.5-pro", "gemini/gemini-2.5-flash",
          "bedrock/anthropic.claude-haiku-4-5-20251001-v1:0", "deepseek/deepseek-chat",
          "xai/grok-4.20-0309-reasoning", "fireworks_ai/accounts/fireworks/models/deepseek-r1",
          "openai/internal-llama-70b", "vertex_ai/gemini-2.5-flash", "dashscope/qwen-flash"]


def deployment(i: int, rng: random.Random) -> str:
    kind = rng.randrange(6)
    model = rng.choice(MODELS)
    lines = [f"  - model_name: group-{i % 400}", "    litellm_params:"]
    if kind == 0:  # azure with base_model
        lines += [f"      model: azure/deploy-{i}", f"      api_base: https://r{i % 7}.openai.azure.com",
                  "      api_key: os.environ/AZURE_API_KEY", "      api_version: \"2024-10-21\""]
        info = ["      base_model: azure/gpt-4o"]
    else:
        lines += [f"      model: {model}", "      api_key: os.environ/PROVIDER_KEY"]
        info = []
    if kind in (1, 2):
        lines.append(f"      input_cost_per_token: {rng.randint(1, 50) / 10_000_000:.7f}")
    if kind == 2:
        lines.append(f"      output_cost_per_token: {rng.randint(1, 90) / 1_000_000:.6f}")
    if kind == 3:
        info += ["      input_cost_per_token: 2.5e-6", "      output_cost_per_token: 1.0e-5"]
    if kind == 4:
        info.append(f"      id: dep-{i}")
    lines += [f"      rpm: {rng.randint(10, 1000)}", "      timeout: 30"]
    if info:
        lines += ["    model_info:"] + info
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description="Write a LiteLLM config of N deployments to stdout.")
    parser.add_argument("deployments", nargs="?", type=int, default=2000, metavar="N")
    n = parser.parse_args().deployments
    rng = random.Random(42)
    print("model_list:")
    for i in range(n):
        print(deployment(i, rng))
    print("litellm_settings:\n  drop_params: true")


if __name__ == "__main__":
    main()
