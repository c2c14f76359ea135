"""The `visualize` command the image apps share: what a layer's channels respond to (images optimized from noise)
and which pixels of one image an output depends on (saliency maps). An app gives its test images
(`visual_samples`), how a photo becomes its input (`visual_input`) and, where one exists, the number a saliency
map explains (`saliency_target`: a class score, an embedding distance)."""

from pathlib import Path

import numpy as np

from keras_suite.errors import UserError
from keras_suite.files import write_json
from keras_suite.interpret.features import Visualizer, feature_layers, feature_model, most_active
from keras_suite.interpret.saliency import blurred, gradients, heat, integrated_gradients, smoothgrad
from keras_suite.visuals.images import read_rgb, write_png
from keras_suite.visuals.plots import image_grid_figure, saliency_figure

DEFAULT_SIDE = 128  # the optimized images' side for a model that takes any size


def pick_layer(model, name):
    """(name, model to it) of layer `name`, or of the middle feature layer."""
    layers = list(feature_layers(model))
    if not layers:
        raise UserError("the model has no convolutional feature layer to visualize")
    name = name or layers[len(layers) // 2]
    if name not in layers:
        shown = ", ".join(layers[:40]) + (", ..." if len(layers) > 40 else "")
        raise UserError(f"visualize.layer '{name}' is not a feature layer of this model; its feature layers: {shown}")
    return name, feature_model(model, name)


def visualize(app, cfg, args):
    vc, run = cfg.visualize, args["run"]
    photo = read_rgb(args["image"], cfg.data.max_pixels) if "image" in args else None
    context = app.saliency_context(cfg, args)  # what the target needs from the arguments, read before the model
    model = app.trained_model(run)
    out = Path(args.get("out") or run.predictions)
    samples = app.visual_samples(cfg)
    name, features = pick_layer(model, vc.layer)
    width = features.output_shape[-1]
    channels = list(vc.channels) or most_active(features, samples, min(vc.top_k, width))
    if max(channels) >= width:
        raise UserError(f"layer {name} has {width} channels (0-{width - 1}); visualize.channels asks for "
                        f"{max(channels)}")
    side = model.input_shape[1] or DEFAULT_SIDE
    print(f"layer {name}: {width} channels; optimizing {len(channels)} images of {side} px for {vc.steps} steps "
          f"({'given' if vc.channels else f'the {len(channels)} most active on {len(samples)} test images'})")
    images, trace = Visualizer(features, side, model.input_shape[-1], vc.steps, vc.learning_rate, vc.jitter, vc.l2,
                               vc.tv, vc.blur_every, vc.decorrelate, vc.seed)(channels)
    stem = name.replace("/", "_")
    grid = write_png(out / f"features_{stem}.png", image_grid_figure(
        images, f"{app.name}: what channels of layer {name} respond to ({vc.steps} steps of gradient ascent from "
        "noise)", columns=min(4, len(channels)), panel=2.4, captions=[
            f"channel {c}: {a:.2f} -> {b:.2f}" for c, a, b in zip(channels, trace[:, 0], trace[:, -1])]))
    print(f"wrote {grid} (mean activation of each channel from the noise to the image)")
    report = {"layer": name, "channels": channels, "activation_start": trace[:, 0].tolist(),
              "activation_end": trace[:, -1].tolist()}
    image = app.visual_input(cfg, photo, model) if photo is not None else samples[0]
    target = app.saliency_target(cfg, run, model, image, context)
    if target is None:
        print(f"saliency: {app.name} has no single number to explain; feature visualization only")
    else:
        f, what = target
        report["saliency"] = saliency(f, what, image, vc, out / f"saliency_{Path(args.get('image', 'test')).stem}.png")
    write_json(out / f"visualize_{stem}.json", report)
    return report


def saliency(f, what, image, vc, path):
    """Write the saliency picture of uint8 `image` for `f` (images -> one number each) to `path`; the integrated
    gradients' completeness (their sum against f(x) - f(baseline)) for the record."""
    x = image[None].astype(np.float32)
    black, soft = np.zeros_like(x), blurred(x)
    maps = [("gradient", gradients(f, x)),
            (f"SmoothGrad ({vc.smooth_samples})", smoothgrad(f, x, vc.smooth_samples, vc.smooth_noise, vc.seed))]
    completeness = {}
    for label, baseline in (("black", black), ("blurred", soft)):
        attr = integrated_gradients(f, x, baseline, vc.ig_steps)
        change = float(f(x)[0] - f(baseline)[0])
        completeness[label] = {"sum": float(attr.sum()), "f(x) - f(baseline)": change}
        maps.append((f"integrated gradients\n({label} baseline)", attr))
    value = float(f(x)[0])
    picture = write_png(path, saliency_figure(image, [(t, heat(m)[0]) for t, m in maps],
                                              f"which pixels {what} depends on (value {value:.3f})"))
    print(f"wrote {picture}: {what} = {value:.4f}; integrated gradients add up to " + ", ".join(
        f"{c['sum']:.4f} of f(x) - f({label}) = {c['f(x) - f(baseline)']:.4f}" for label, c in completeness.items()))
    return {"target": what, "value": value, "completeness": completeness}
