"""Loops with other common choices: model.zero_grad(), tensor accumulators, a list of per-batch loss totals."""
import torch


def train_epoch(model, loader, optimizer, criterion, device="cpu"):
    model.train()
    device = torch.device(device)
    loss_sum = torch.zeros(())
    n_correct = torch.zeros((), dtype=torch.long)
    n_seen = 0
    for batch_idx, (data, target) in enumerate(loader):
        data, target = data.to(device), target.to(device)
        model.zero_grad()
        logits = model(data)
        loss = criterion(logits, target)
        loss.backward()
        optimizer.step()
        loss_sum += loss.detach() * len(data)
        n_correct += (logits.argmax(dim=-1) == target).sum()
        n_seen += len(data)
    return loss_sum / n_seen, n_correct.float() / n_seen


def validate(model, loader, criterion, device="cpu"):
    model.eval()
    losses, hits, count = [], 0, 0
    with torch.no_grad():
        for data, target in loader:
            data, target = data.to(device), target.to(device)
            logits = model(data)
            losses.append(criterion(logits, target).item() * target.numel())
            hits += int(torch.sum(torch.argmax(logits, 1) == target))
            count += target.numel()
    return sum(losses) / count, hits / count
