"""Loading LiteLLM proxy configs (see loader.py); the public names of the package."""

from costctl.config.loader import litellm_deployment_id, load_config
from costctl.config.model import Config, Deployment, EnvRef

__all__ = ["Config", "Deployment", "EnvRef", "litellm_deployment_id", "load_config"]
