"""bertcpp: Hugging Face transformers' BERT API on a local C++ engine.

Change one import and keep your code::

    from bertcpp import BertTokenizer, BertModel
    tokenizer = BertTokenizer.from_pretrained("bert-base-uncased")
    model = BertModel.from_pretrained("bert-base-uncased")
    outputs = model(**tokenizer("Hello, world!", return_tensors="np"))
    outputs.last_hidden_state  # numpy float32 [1, seq, hidden] (torch with return_tensors="pt")

Only numpy is needed at run time; torch tensors are accepted and returned when torch is installed.
"""
from ._bertcpp import (  # noqa: F401
    BertcppError,
    InvalidArgumentError,
    InvalidFileError,
    NetworkError,
    NotFoundError,
    UnauthorizedError,
    UnsupportedError,
    __version__,
    pool,
)
from .modeling import (  # noqa: F401
    AutoConfig,
    AutoModel,
    AutoModelForMaskedLM,
    AutoModelForPreTraining,
    AutoModelForQuestionAnswering,
    AutoModelForSequenceClassification,
    AutoModelForTokenClassification,
    BaseModelOutputWithPoolingAndCrossAttentions,
    BertConfig,
    BertForMaskedLM,
    BertForPreTraining,
    BertForPreTrainingOutput,
    BertForQuestionAnswering,
    BertForSequenceClassification,
    BertForTokenClassification,
    BertModel,
    BertPreTrainedModel,
    MaskedLMOutput,
    ModelOutput,
    QuestionAnsweringModelOutput,
    SequenceClassifierOutput,
    TokenClassifierOutput,
)
from .cross_encoder import CrossEncoder  # noqa: F401
from .pipelines import pipeline  # noqa: F401
from . import util  # noqa: F401
from .quantization import quantize_embeddings  # noqa: F401
from .sentence_transformers import SentenceTransformer, cos_sim  # noqa: F401
from .tokenization import AddedToken, AutoTokenizer, BatchEncoding, BertTokenizer, BertTokenizerFast  # noqa: F401
from .tokenization import XLMRobertaTokenizer, XLMRobertaTokenizerFast  # noqa: F401

__all__ = [
    "AddedToken", "AutoConfig", "AutoModel", "AutoModelForMaskedLM", "AutoModelForPreTraining", "AutoModelForQuestionAnswering",
    "AutoModelForSequenceClassification", "AutoModelForTokenClassification", "AutoTokenizer",
    "BaseModelOutputWithPoolingAndCrossAttentions", "BatchEncoding", "BertConfig", "BertForMaskedLM",
    "BertForPreTraining", "BertForPreTrainingOutput", "BertForQuestionAnswering", "BertForSequenceClassification",
    "BertForTokenClassification", "BertModel", "BertPreTrainedModel", "BertTokenizer", "BertTokenizerFast",
    "BertcppError", "CrossEncoder", "InvalidArgumentError", "InvalidFileError", "MaskedLMOutput", "ModelOutput", "NetworkError",
    "NotFoundError", "QuestionAnsweringModelOutput", "SentenceTransformer", "SequenceClassifierOutput",
    "TokenClassifierOutput", "UnauthorizedError", "UnsupportedError", "cos_sim", "pipeline", "pool", "quantize_embeddings",
    "util", "__version__",
    "XLMRobertaTokenizer", "XLMRobertaTokenizerFast",
]
