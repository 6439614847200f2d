"""Training and validation loops (written after PyTorch's MNIST example)."""
import torch


def train_epoch(model, loader, optimizer, criterion, device="cpu"):
    model.train()
    train_loss = 0
    correct = 0
    for batch_idx, (data, target) in enumerate(loader):
        data, target = data.to(device), target.to(device)
        optimizer.zero_grad()
        output = model(data)
        loss = criterion(output, target)
        loss.backward()
        optimizer.step()
        train_loss += loss.item() * data.size(0)
        pred = output.argmax(dim=1, keepdim=True)  # index of the max log-probability
        correct += pred.eq(target.view_as(pred)).sum().item()
        if batch_idx % 10 == 0:
            print(f"Train: [{batch_idx * len(data)}/{len(loader.dataset)}]\tLoss: {loss.item():.6f}")
    train_loss /= len(loader.dataset)
    return train_loss, correct / len(loader.dataset)


def validate(model, loader, criterion, device="cpu"):
    model.eval()
    test_loss = 0
    correct = 0
    with torch.no_grad():
        for data, target in loader:
            data, target = data.to(device), target.to(device)
            output = model(data)
            test_loss += criterion(output, target).item() * len(data)  # sum up batch loss
            pred = output.argmax(dim=1, keepdim=True)
            correct += pred.eq(target.view_as(pred)).sum().item()
    test_loss /= len(loader.dataset)
    accuracy = correct / len(loader.dataset)
    print(f"Validation: Average loss: {test_loss:.4f}, Accuracy: {correct}/{len(loader.dataset)} ({100. * accuracy:.0f}%)")
    return test_loss, accuracy
