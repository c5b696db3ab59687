"""The Custom NER engine: Azure project files in, trained CRF models and entities out.

Layers, each in its own module::

    project              a project as the engine holds it (code points), and its Azure project file
    importer, documents  read and validate an Azure project file and its texts (UTF-16 offsets -> code points)
    tokens, features     what the CRF sees
    training, splits     train a CRF; choose training and test documents as Azure does
    recognizer           predict entities with confidences (code points)
    crf_weights, emissions, decoding
                         what predicting is made of: the model's weights, per-token sums, Viterbi
    evaluation           Azure-shaped evaluation summary and per-document results
    artifact, archive    the exported model folder, its manifest and checksums, its single-file form
    offsets              the three Azure string index types, converted at the edge
    pipeline             split -> train -> package -> evaluate, as a training job does it

Example::

    project = parse_project(json.load(open("project.json")), DirectorySource("docs-root"))
    result = train_project(project, "model1")
    save_model(result.model, "out/model1")
    entities = load_model("out/model1").recognizer.recognize("Invoice INV-2024-001 ...")
"""

from .archive import extract_archive, write_archive
from .artifact import Model, ModelInfo, load_model, manifest_json, save_model
from .documents import DirectorySource, DocumentSource, MappingSource
from .errors import ArtifactError, EngineError, ProjectError, ProjectIssue, TrainingError
from .evaluation import Evaluation, evaluate
from .importer import parse_metadata, parse_project
from .offsets import OffsetError, StringIndexType, TextIndex
from .pipeline import TRAINING_CONFIG_VERSIONS, TrainingResult, train_project
from .project import Document, Label, Project, ProjectMetadata, Region, project_to_json
from .recognizer import Entity, Recognizer, entities_json
from .splits import EvaluationOptions, Split, SplitKind, split_documents
from .training import TrainingOptions, train_crf

__all__ = [
    "TRAINING_CONFIG_VERSIONS",
    "ArtifactError",
    "DirectorySource",
    "Document",
    "DocumentSource",
    "EngineError",
    "Entity",
    "Evaluation",
    "EvaluationOptions",
    "Label",
    "MappingSource",
    "Model",
    "ModelInfo",
    "OffsetError",
    "Project",
    "ProjectError",
    "ProjectIssue",
    "ProjectMetadata",
    "Recognizer",
    "Region",
    "Split",
    "SplitKind",
    "StringIndexType",
    "TextIndex",
    "TrainingError",
    "TrainingOptions",
    "TrainingResult",
    "entities_json",
    "evaluate",
    "extract_archive",
    "load_model",
    "manifest_json",
    "parse_metadata",
    "parse_project",
    "project_to_json",
    "save_model",
    "split_documents",
    "train_crf",
    "train_project",
    "write_archive",
]
