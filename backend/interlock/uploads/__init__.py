"""Task input files: ``POST /uploads`` stores them, parameters refer to them by id."""

from .cleanup import UploadSweeper
from .fields import FORMAT, SUFFIXES_KEY, InputFile, UploadRef, claim_inputs, input_files
from .files import Upload, UploadStore, is_upload_id

__all__ = [
    "FORMAT",
    "SUFFIXES_KEY",
    "InputFile",
    "Upload",
    "UploadRef",
    "UploadStore",
    "UploadSweeper",
    "claim_inputs",
    "input_files",
    "is_upload_id",
]
