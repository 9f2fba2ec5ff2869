"""MLflow half of bench_serving_vs_mlflow: save the same fitted pipeline as an MLflow model.

Usage: python mlflow_serve_peer.py PIPELINE.joblib MODEL_DIR — prints {"model_dir": …}. The
benchmark then runs ``mlflow models serve`` from this environment on MODEL_DIR.
"""

import json
import sys

import joblib
import mlflow.sklearn

pipeline = joblib.load(sys.argv[1])
mlflow.sklearn.save_model(
    pipeline,
    sys.argv[2],
    serialization_format=mlflow.sklearn.SERIALIZATION_FORMAT_CLOUDPICKLE,
    pyfunc_predict_fn="predict_proba",
)
print(json.dumps({"model_dir": sys.argv[2], "mlflow": mlflow.__version__}))
